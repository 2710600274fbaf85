// `npm run build:check`: bundles every Worker as `wrangler deploy` would (offline, nothing
// uploaded), prints each bundle's raw and gzipped size, and fails if one is over budget.
import { relative } from "node:path";
import { GZIP_BUDGET_BYTES, ROOT, WORKER_CONFIGS, bundleWorker, kib } from "./bundle.ts";

const started = performance.now();
const settled = await Promise.allSettled(WORKER_CONFIGS.map((configPath) => bundleWorker(configPath)));
const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
if (failed.length > 0) {
  for (const f of failed) console.error(f.reason instanceof Error ? f.reason.message : f.reason, "\n");
  console.error(`${failed.length} of ${WORKER_CONFIGS.length} Workers did not bundle.`);
  process.exit(1);
}
const bundles = settled.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof bundleWorker>>>).value);

const rows = bundles.map((b) => ({
  worker: b.worker,
  config: b.configPath,
  modules: String(b.modules.length),
  raw: kib(b.rawBytes),
  gzip: kib(b.gzipBytes),
  budget: `${((b.gzipBytes / GZIP_BUDGET_BYTES) * 100).toFixed(1)}%`,
  status: b.gzipBytes > GZIP_BUDGET_BYTES ? "OVER" : "ok",
}));
const headers = { worker: "worker", config: "config", modules: "modules", raw: "raw", gzip: "gzip", budget: "of 3 MiB", status: "" };
const keys = Object.keys(headers) as (keyof typeof headers)[];
const width = Object.fromEntries(keys.map((k) => [k, Math.max(headers[k].length, ...rows.map((r) => r[k].length))]));
const line = (r: Record<string, string>) =>
  keys.map((k) => (k === "worker" || k === "config" ? r[k]!.padEnd(width[k]!) : r[k]!.padStart(width[k]!))).join("  ").trimEnd();
console.log(line(headers));
for (const r of rows) console.log(line(r));
for (const b of bundles) {
  if (b.wranglerReport) console.log(`  ${b.worker}: wrangler reports ${b.wranglerReport}; bundle in ${relative(ROOT, b.outdir)}/`);
}

const over = bundles.filter((b) => b.gzipBytes > GZIP_BUDGET_BYTES);
console.log(`${bundles.length} Workers bundled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (over.length > 0) {
  console.error(`Over the ${kib(GZIP_BUDGET_BYTES)} gzipped budget: ${over.map((b) => `${b.worker} (${kib(b.gzipBytes)})`).join(", ")}`);
  process.exit(1);
}
