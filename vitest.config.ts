import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");

/**
 * Stands in for airlock-auth in unit projects of Workers that bind its OrgState Durable
 * Object: the same two RPC methods, in memory. The real one runs in the e2e mesh.
 */
const orgStateStandIn = {
  name: "airlock-auth",
  modules: true,
  compatibilityDate: "2026-11-01",
  durableObjects: { ORG_STATE: { className: "OrgState", useSQLite: true } },
  script: `import { DurableObject } from "cloudflare:workers";
export class OrgState extends DurableObject {
  version = 1;
  async configVersion() { return this.version; }
  async bumpConfigVersion() { return ++this.version; }
}
export default { fetch: () => new Response(null, { status: 404 }) };`,
};

/** Unit tests run inside workerd, one project per Worker with logic; e2e runs in Node against the whole mesh. */
const workerProject = (name: string, configPath: string, include: string[]) => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath },
      miniflare: { bindings: { TEST_MIGRATIONS: migrations, MASTER_KEY: btoa("k".repeat(32)) }, workers: [orgStateStandIn] },
    }),
  ],
  test: { name, include, setupFiles: ["./test/workerd/apply-migrations.ts"] },
});

export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    projects: [
      workerProject("auth", "./workers/auth/wrangler.toml", ["workers/auth/**/*.test.ts"]),
      workerProject("metrics", "./workers/metrics/wrangler.toml", ["workers/metrics/**/*.test.ts"]),
      workerProject("guardrail", "./workers/guardrail/wrangler.toml", ["workers/guardrail/**/*.test.ts"]),
      {
        plugins: [cloudflareTest({ miniflare: { compatibilityDate: "2026-11-01" } })],
        test: { name: "shared", include: ["shared/**/*.test.ts", "workers/router/**/*.test.ts"] },
      },
      { test: { name: "eval", include: ["test/eval/**/*.test.ts"], environment: "node" } },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
