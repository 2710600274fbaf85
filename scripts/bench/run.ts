// `npm run bench`: Airlock's per-request overhead, in one run, under Miniflare directly.
//
// Variants, all in the same process and the same workerd:
//   fixture       a Node HTTP server on 127.0.0.1, called directly with Node's fetch (floor)
//   pass-through  a bare Worker forwarding the request to the fixture
//   hello         a bare Worker answering a static small JSON (the baseline for Airlock's
//                 own JSON answers: both scenarios are answered by Airlock, not an upstream)
//   airlock       the five Workers from `wrangler deploy --dry-run`, wired as their configs
// The three Workers are reached the same way: `mf.dispatchFetch(url)` straight to workerd,
// routed by host (`*.airlock.localhost/*`, `hello.bench.localhost/*`, `pass.bench.localhost/*`).
// Scenarios: (a) GET /api/v1/me (router → AUTH.authenticate RPC; the router answers),
//            (b) GET /api/v1/teams (router → AUTH.authenticate → AUTH.api → D1).
// Each at concurrency 1 (sequential) and 32 (32 in flight), after a warm-up; the variants
// are measured in interleaved rounds (order rotated each round) so drift, GC and the
// background event writes (queue → metrics → D1) fall on all of them alike.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { DIST, ROOT, bundleAll, kib, type Bundle } from "../build/bundle.ts";
import { bareWorkers } from "./bare-workers.ts";
import { startFixture, type Fixture } from "./fixture.ts";
import { BadStatus, run, stats, type Sample, type Send, type Stats } from "./measure.ts";
import { airlockWorkers, applyMigrations, wranglersMiniflare, type Miniflare } from "./mesh.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "3000" },
    warmup: { type: "string", default: "300" },
    rounds: { type: "string", default: "6" },
    concurrency: { type: "string", default: "1,32" },
    out: { type: "string", default: join(DIST, "bench.json") },
  },
});
const REQUESTS = Number(args.requests);
const WARMUP = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = args.concurrency.split(",").map(Number);
if (!(REQUESTS >= 1 && WARMUP >= 0 && ROUNDS >= 1 && CONCURRENCY.every((c) => c >= 1))) {
  console.error("usage: npm run bench -- [--requests 3000] [--warmup 300] [--rounds 6] [--concurrency 1,32] [--out dist/bench.json]");
  process.exit(2);
}

const BASE_DOMAIN = "airlock.localhost";
const ORG = "acme";
const HELLO_HOST = "hello.bench.localhost";
const PASS_HOST = "pass.bench.localhost";
const TEAMS = 5;

const SCENARIOS = [
  { id: "me", path: "/api/v1/me", title: "(a) authenticated no-op GET /api/v1/me", airlockPath: "router → AUTH.authenticate (RPC; OrgState DO for the config version) → router answers" },
  { id: "teams", path: "/api/v1/teams", title: `(b) authenticated admin GET /api/v1/teams (${TEAMS} teams)`, airlockPath: "router → AUTH.authenticate → AUTH.api (RPC) → D1" },
] as const;

const VARIANTS = [
  { id: "fixture", label: "fixture (Node, direct)" },
  { id: "pass-through", label: "bare pass-through Worker" },
  { id: "hello", label: "bare hello-world Worker" },
  { id: "airlock", label: "Airlock (5 Workers)" },
] as const;
type VariantId = (typeof VARIANTS)[number]["id"];

let mf: Miniflare | undefined;
let fixture: Fixture | undefined;
let closing: Promise<void> | undefined;
const close = () =>
  (closing ??= (async () => {
    await mf?.dispose().catch((error: unknown) => console.error("closing Miniflare:", error));
    await fixture?.close();
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void close().finally(() => process.exit(130)));
}

const us = (v: number) => v.toFixed(1);
const signed = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(1)}`;

function table(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAtStart = loadavg();
  if (loadAtStart[0]! > cpus().length * 0.5) {
    console.log(`Note: the machine is busy before the run (load ${loadAtStart[0]!.toFixed(2)} on ${cpus().length} CPUs): expect noisy figures.`);
  }

  console.log("Bundling the Workers (wrangler deploy --dry-run)…");
  const bundles: Bundle[] = await bundleAll();
  console.log(bundles.map((b) => `  ${b.worker}: ${kib(b.rawBytes)} (gzip ${kib(b.gzipBytes)})`).join("\n"));

  fixture = await startFixture();
  const { miniflare, version: miniflareVersion, wrangler: wranglerVersion, workerd: workerdVersion } = wranglersMiniflare();
  const operatorToken = `alk_op_bench_${randomBytes(16).toString("hex")}`;
  const router = bundles[0]!.worker;
  const airlock = airlockWorkers(bundles, {
    // The bench's own operator token, whatever .dev.vars says (wrangler reads it for secrets).
    bindings: { "airlock-auth": { OPERATOR_TOKEN: operatorToken } },
    routes: { [router]: [`*.${BASE_DOMAIN}/*`] },
  });
  const compatibilityDate = (airlock[0] as { compatibilityDate?: string }).compatibilityDate ?? "2026-11-01";
  const bare = bareWorkers({ compatibilityDate, upstream: fixture.origin, helloRoute: `${HELLO_HOST}/*`, passThroughRoute: `${PASS_HOST}/*` });

  const logs = { lines: 0, errors: [] as string[] };
  mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({
      workers: [...airlock, ...bare], // the router first: unrouted requests fall to it
      cf: false, // no request.cf download (offline)
      // workerd's console lines (one event JSON per Airlock request): counted, not printed.
      handleStructuredLogs: (log: { level: string; message: string }) => {
        logs.lines++;
        if (log.level === "error" && logs.errors.length < 20) logs.errors.push(log.message.slice(0, 500));
      },
    } as Parameters<typeof miniflare.convertV4MiniflareOptions>[0]),
  );
  await mf.ready;
  const migrations = await applyMigrations(mf, "workers/auth/wrangler.toml");
  const mfRef = mf;
  const dispatch = (host: string, path: string, init: RequestInit = {}) => mfRef.dispatchFetch(`https://${host}${path}`, init as never) as unknown as Promise<Response>;

  // Seed: org, owner admin token, teams, through the operator and admin APIs.
  const json = (token: string, body: unknown): RequestInit => ({
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const expect = async (response: Response, status: number, what: string) => {
    const text = await response.text();
    if (response.status !== status) throw new Error(`seeding: ${what} answered ${response.status}, not ${status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  await expect(await dispatch(`api.${BASE_DOMAIN}`, "/v1/orgs", json(operatorToken, { slug: ORG, name: "Acme" })), 201, "create org");
  const minted = await expect(await dispatch(`api.${BASE_DOMAIN}`, `/v1/orgs/${ORG}/admin-tokens`, json(operatorToken, { name: "bench", role: "owner" })), 201, "mint admin token");
  const secret = minted["secret"] as string;
  for (let i = 1; i <= TEAMS; i++) {
    await expect(await dispatch(`${ORG}.${BASE_DOMAIN}`, "/api/v1/teams", json(secret, { name: `team-${i}`, description: `Bench team ${i}` })), 201, `create team-${i}`);
  }
  const headers = { authorization: `Bearer ${secret}`, "user-agent": "airlock-bench/1", accept: "application/json" };
  const me = await expect(await dispatch(`${ORG}.${BASE_DOMAIN}`, "/api/v1/me", { headers }), 200, "GET /api/v1/me");
  const teams = await expect(await dispatch(`${ORG}.${BASE_DOMAIN}`, "/api/v1/teams", { headers }), 200, "GET /api/v1/teams");
  if (me["kind"] !== "admin_token" || (teams["data"] as unknown[]).length !== TEAMS) {
    throw new Error(`seeding: unexpected answers: /me ${JSON.stringify(me).slice(0, 200)}; /teams has ${(teams["data"] as unknown[]).length} teams`);
  }
  const setupMs = performance.now() - t0;
  console.log(`Mesh up, migrated (${migrations.join(", ")}), org ${ORG} seeded with ${TEAMS} teams in ${(setupMs / 1000).toFixed(1)} s.`);
  console.log(`miniflare ${miniflareVersion} (wrangler ${wranglerVersion}'s), workerd ${workerdVersion}, Node ${process.version}, ${cpus().length} CPUs`);
  console.log(`${WARMUP} warm-up + ${REQUESTS} measured requests per variant, scenario and concurrency; ${ROUNDS} interleaved rounds.\n`);

  let airlockRequests = 0;
  const results = [];
  for (const scenario of SCENARIOS) {
    const send: Record<VariantId, Send> = {
      fixture: () => fetch(`${fixture!.origin}${scenario.path}`, { headers }),
      "pass-through": () => dispatch(PASS_HOST, scenario.path, { headers }),
      hello: () => dispatch(HELLO_HOST, scenario.path, { headers }),
      airlock: () => dispatch(`${ORG}.${BASE_DOMAIN}`, scenario.path, { headers }),
    };
    for (const concurrency of CONCURRENCY) {
      for (const v of VARIANTS) await run(v.id, send[v.id], WARMUP, concurrency);
      airlockRequests += WARMUP;
      const samples = Object.fromEntries(VARIANTS.map((v) => [v.id, { latencies: [], wallNs: 0n } as Sample])) as Record<VariantId, Sample>;
      for (let round = 0; round < ROUNDS; round++) {
        const count = Math.floor(REQUESTS / ROUNDS) + (round < REQUESTS % ROUNDS ? 1 : 0);
        const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
        for (const v of order) await run(v.id, send[v.id], count, concurrency, samples[v.id]);
        airlockRequests += count;
      }
      const byVariant = Object.fromEntries(VARIANTS.map((v) => [v.id, stats(samples[v.id])])) as Record<VariantId, Stats>;
      const minus = (base: VariantId) => ({
        p50Us: Math.round((byVariant.airlock.p50Us - byVariant[base].p50Us) * 10) / 10,
        p99Us: Math.round((byVariant.airlock.p99Us - byVariant[base].p99Us) * 10) / 10,
        meanUs: Math.round((byVariant.airlock.meanUs - byVariant[base].meanUs) * 10) / 10,
      });
      const overhead = { airlockMinusHello: minus("hello"), airlockMinusPassThrough: minus("pass-through") };
      results.push({ scenario: scenario.id, path: scenario.path, concurrency, variants: byVariant, overhead });

      console.log(`${scenario.title}, concurrency ${concurrency}`);
      console.log(
        table(
          [
            ["variant", "p50 µs", "p90 µs", "p99 µs", "mean µs", "max µs", "req/s"],
            ...VARIANTS.map((v) => {
              const s = byVariant[v.id];
              return [v.label, us(s.p50Us), us(s.p90Us), us(s.p99Us), us(s.meanUs), us(s.maxUs), String(s.reqPerSec)];
            }),
          ],
          [false, true, true, true, true, true, true],
        ),
      );
      console.log(
        `  Airlock minus bare hello-world Worker:  p50 ${signed(overhead.airlockMinusHello.p50Us)} µs   p99 ${signed(overhead.airlockMinusHello.p99Us)} µs   mean ${signed(overhead.airlockMinusHello.meanUs)} µs`,
      );
      console.log(
        `  Airlock minus bare pass-through Worker: p50 ${signed(overhead.airlockMinusPassThrough.p50Us)} µs   p99 ${signed(overhead.airlockMinusPassThrough.p99Us)} µs   mean ${signed(overhead.airlockMinusPassThrough.meanUs)} µs\n`,
      );
    }
  }

  // Let the last queue batch (max_batch_timeout 1 s) land, then see what was recorded.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const db = await mf.getD1Database("DB", "airlock-auth");
  const auditEvents = ((await db.prepare("SELECT count(*) AS n FROM audit_events").first<{ n: number }>())?.n ?? 0) as number;

  console.log("Summary: Airlock minus bare Worker (µs)");
  console.log(
    table(
      [
        ["scenario", "conc", "Airlock p50", "Airlock p99", "− hello p50", "− hello p99", "− pass-through p50", "− pass-through p99"],
        ...results.map((r) => [
          r.path,
          String(r.concurrency),
          us(r.variants.airlock.p50Us),
          us(r.variants.airlock.p99Us),
          signed(r.overhead.airlockMinusHello.p50Us),
          signed(r.overhead.airlockMinusHello.p99Us),
          signed(r.overhead.airlockMinusPassThrough.p50Us),
          signed(r.overhead.airlockMinusPassThrough.p99Us),
        ]),
      ],
      [false, true, true, true, true, true, true, true],
    ),
  );
  console.log(`\nAirlock answered 200 to all ${airlockRequests} benchmark requests (warm-up included); any other status aborts the run.`);
  // The bench itself keeps about one CPU busy; more than that is someone else.
  if (loadavg()[0]! > cpus().length * 0.75) {
    console.log(`Note: load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${cpus().length} CPUs at the end: other work shared the machine; compare runs with care.`);
  }
  console.log(`workerd log lines: ${logs.lines} (error level: ${logs.errors.length}); audit events in D1 after the run: ${auditEvents}`);
  for (const line of logs.errors.slice(0, 5)) console.log(`  error log: ${line}`);

  const report = {
    generatedAt: startedAt.toISOString(),
    durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
    units: "microseconds (latency), requests per second (reqPerSec)",
    method: {
      dispatch: "Workers: Miniflare#dispatchFetch (undici → workerd, no dev proxy), routed by host; fixture: Node's global fetch",
      timing: "process.hrtime.bigint per request, from the call until the body is fully read; nearest-rank percentiles",
      warmupPerCell: WARMUP,
      requestsPerCell: REQUESTS,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      baseline: "Airlock minus bare hello-world Worker (both answer JSON themselves); minus pass-through also given",
    },
    machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg() },
    toolchain: { wrangler: wranglerVersion, miniflare: miniflareVersion, workerd: workerdVersion, compatibilityDate },
    bundles: bundles.map((b) => ({ worker: b.worker, config: b.configPath, rawBytes: b.rawBytes, gzipBytes: b.gzipBytes })),
    variants: Object.fromEntries(VARIANTS.map((v) => [v.id, v.label])),
    scenarios: SCENARIOS.map((s) => ({ id: s.id, path: s.path, title: s.title, airlockPath: s.airlockPath })),
    results,
    checks: { airlockAll200: true, airlockRequests, workerdLogLines: logs.lines, workerdErrorLines: logs.errors.length, auditEventsInD1: auditEvents },
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`Wrote ${relative(ROOT, args.out)} (${report.durationSeconds} s in all).`);
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  if (error instanceof BadStatus) {
    console.error(`\nABORTED: ${error.message}\nA benchmark of error answers measures nothing; fix the mesh or the seeding first.`);
  } else {
    console.error("\nbench failed:", error);
  }
} finally {
  await close();
}
// Everything is closed; if a stray handle still holds the loop, do not hang the caller.
setTimeout(() => {
  console.error("bench: a handle kept the process alive after closing; exiting");
  process.exit(code);
}, 5_000).unref();
process.exitCode = code;
