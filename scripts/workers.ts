/**
 * The five Workers' configs, relative to the repo root, the router first: `wrangler dev`
 * treats the first config as the primary Worker, which receives every request.
 * `npm start`, the tests, the bundler, the benchmark and the deploy script all use this list.
 */
export const WORKER_CONFIGS = [
  "wrangler.toml",
  "workers/auth/wrangler.toml",
  "workers/guardrail/wrangler.toml",
  "workers/mcp-proxy/wrangler.toml",
  "workers/metrics/wrangler.toml",
] as const;
