import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");

/**
 * Stands in for airlock-auth in unit projects of Workers that bind its OrgState Durable
 * Object: the same two RPC methods, in memory, and an empty AuthService so a service binding
 * to it resolves (workerd refuses to start otherwise). The real one runs in the e2e mesh.
 */
const orgStateStandIn = {
  name: "airlock-auth",
  modules: true,
  compatibilityDate: "2026-11-01",
  durableObjects: { ORG_STATE: { className: "OrgState", useSQLite: true } },
  script: `import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
export class AuthService extends WorkerEntrypoint {}
export class OrgState extends DurableObject {
  version = 1;
  async configVersion() { return this.version; }
  async bumpConfigVersion() { return ++this.version; }
}
export default { fetch: () => new Response(null, { status: 404 }) };`,
};

/**
 * Stands in for airlock-guardrail in the mcp-proxy unit project, whose service binding needs
 * the entrypoint to exist; unit tests there cover modules that never call it.
 */
const guardrailStandIn = {
  name: "airlock-guardrail",
  modules: true,
  compatibilityDate: "2026-11-01",
  script: `import { WorkerEntrypoint } from "cloudflare:workers";
export class GuardrailService extends WorkerEntrypoint {}
export default { fetch: () => new Response(null, { status: 404 }) };`,
};

/** Unit tests run inside workerd, one project per Worker with logic; e2e runs in Node against the whole mesh. */
const workerProject = (name: string, configPath: string, include: string[], standIns: (typeof orgStateStandIn | typeof guardrailStandIn)[] = [orgStateStandIn]) => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath },
      miniflare: { bindings: { TEST_MIGRATIONS: migrations, MASTER_KEY: btoa("k".repeat(32)), CONFIG_LEASE_MS: "50" }, workers: standIns },
    }),
  ],
  test: { name, include, setupFiles: ["./test/workerd/apply-migrations.ts"] },
});

export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    projects: [
      // The router's admission talks to airlock-auth's OrgState and AuthService: its tests run here, where both are real.
      workerProject("auth", "./workers/auth/wrangler.toml", ["workers/auth/**/*.test.ts", "workers/router/admission/**/*.test.ts"]),
      workerProject("metrics", "./workers/metrics/wrangler.toml", ["workers/metrics/**/*.test.ts"]),
      workerProject("guardrail", "./workers/guardrail/wrangler.toml", ["workers/guardrail/**/*.test.ts"]),
      workerProject("mcp-proxy", "./workers/mcp-proxy/wrangler.toml", ["workers/mcp-proxy/**/*.test.ts"], [orgStateStandIn, guardrailStandIn]),
      {
        plugins: [cloudflareTest({ miniflare: { compatibilityDate: "2026-11-01" } })],
        test: { name: "shared", include: ["shared/**/*.test.ts", "workers/router/**/*.test.ts"], exclude: ["workers/router/admission/**"] },
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
