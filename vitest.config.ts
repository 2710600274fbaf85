import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");

/** Unit tests run inside workerd, one project per Worker with logic; e2e runs in Node against the whole mesh. */
const workerProject = (name: string, configPath: string, include: string[]) => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath },
      miniflare: { bindings: { TEST_MIGRATIONS: migrations } },
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
