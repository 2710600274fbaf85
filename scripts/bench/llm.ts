// The model gateway's overhead (issue 6), under Miniflare directly, against one fixture provider
// on loopback (test/fixtures/providers/server.ts, OpenAI's wire format). In one run, interleaved:
//   fixture       POST /v1/chat/completions on the fixture with Node's fetch (the floor)
//   pass-through  a bare Worker forwarding the same request to the fixture
//   airlock       POST /llm/openai/v1/chat/completions on acme's host with an API key: the router
//                 resolves the provider and model from its isolate cache, admits the call in its
//                 own isolate (API key, Cedar decision, reservation from an allowance lease) while
//                 the guardrails check the prompt (under the org's policy), the org's sealed key goes
//                 upstream, the answer passes the guardrails (direction response)
//                 and usage, cost, settle and the event happen after the response (waitUntil).
// Scenarios: non-streaming at concurrency 1 (p50/p99, µs) and 32 (req/s); streaming time to
// first byte at concurrency 1 (from the call to the first body chunk).
// Run alone: `npx node --expose-gc scripts/bench/llm.ts [--requests 2000] [--warmup 200] [--rounds 4] [--no-budget]`;
// `npm run bench` runs it after the other sections, with their --requests/--warmup.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { startProviderFixture } from "../../test/fixtures/providers/server.ts";
import { DIST, ROOT, bundleAll } from "../build/bundle.ts";
import { bareWorkers } from "./bare-workers.ts";
import { run, stats, type Sample, type Send, type Stats } from "./measure.ts";
import { airlockWorkers, applyMigrations, wranglersMiniflare, seeder } from "./mesh.ts";

const BASE_DOMAIN = "airlock.localhost";
const ORG = "acme";
const PASS_HOST = "pass.bench.localhost";
const HELLO_HOST = "hello.bench.localhost";
const PROMPT = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello in one short sentence, please." }], max_tokens: 50 };
const VARIANTS = ["fixture", "pass-through", "airlock"] as const;
type Variant = (typeof VARIANTS)[number];

export interface LlmBenchOptions {
  requests: number;
  warmup: number;
  rounds: number;
  out: string;
  /** Configure an org budget (every call then reserves and settles); off to measure admission without one. */
  budget?: boolean;
}

const ttfbRun = async (variant: string, send: Send, count: number, into: bigint[]) => {
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const response = await send();
    const reader = response.body!.getReader();
    const first = await reader.read();
    const elapsed = process.hrtime.bigint() - started;
    while (!(await reader.read()).done);
    if (response.status !== 200 || first.done) throw new Error(`${variant} stream answered ${response.status}`);
    into.push(elapsed);
  }
};

export async function llmBench(options: LlmBenchOptions): Promise<number> {
  const fixture = await startProviderFixture();
  const bundles = await bundleAll();
  const { miniflare } = wranglersMiniflare();
  const router = bundles[0]!.worker;
  const masterKey = randomBytes(32).toString("base64");
  const operatorToken = `alk_op_bench_${randomBytes(16).toString("hex")}`;
  const airlock = airlockWorkers(bundles, {
    bindings: {
      "airlock-auth": { OPERATOR_TOKEN: operatorToken, MASTER_KEY: masterKey },
      "airlock-guardrail": { MASTER_KEY: masterKey },
      [router]: { MASTER_KEY: masterKey, ALLOW_PRIVATE_UPSTREAMS: "true" },
    },
    routes: { [router]: [`*.${BASE_DOMAIN}/*`] },
  });
  const compatibilityDate = (airlock[0] as { compatibilityDate?: string }).compatibilityDate ?? "2026-11-01";
  const bare = bareWorkers({ compatibilityDate, upstream: fixture.url, helloRoute: `${HELLO_HOST}/*`, passThroughRoute: `${PASS_HOST}/*` });
  const mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({ workers: [...airlock, ...bare], cf: false, handleStructuredLogs: () => undefined } as Parameters<typeof miniflare.convertV4MiniflareOptions>[0]),
  );
  try {
    await mf.ready;
    await applyMigrations(mf, "workers/auth/wrangler.toml");
    const { dispatch, post, expectStatus } = seeder(mf);
    const host = `${ORG}.${BASE_DOMAIN}`;
    await expectStatus(await dispatch(`api.${BASE_DOMAIN}`, "/v1/orgs", post(operatorToken, { slug: ORG, name: "Acme" })), 201, "create org");
    const admin = (await expectStatus(await dispatch(`api.${BASE_DOMAIN}`, `/v1/orgs/${ORG}/admin-tokens`, post(operatorToken, { name: "bench", role: "owner" })), 201, "admin token"))["secret"] as string;
    const provider = await expectStatus(await dispatch(host, "/api/v1/providers", post(admin, { name: "openai", kind: "openai", base_url: fixture.url, credential: "sk-bench-provider-key-0123456789" })), 201, "provider");
    await expectStatus(await dispatch(host, "/api/v1/models", post(admin, { name: "gpt-4o-mini", deployments: [{ provider_id: provider["id"], model: "gpt-4o-mini" }] })), 201, "model");
    const user = await expectStatus(await dispatch(host, "/api/v1/users", post(admin, { email: "agent@acme.test" })), 201, "user");
    const key = (await expectStatus(await dispatch(host, "/api/v1/api-keys", post(admin, { name: "bench", user_id: user["id"] })), 201, "api key"))["secret"] as string;
    // A budget, when the limits API (issue 6 part B) is there: every call then reserves and settles.
    let budget = "none (--no-budget)";
    if (options.budget !== false) {
      const limit = await dispatch(host, "/api/v1/limits", post(admin, { scope: "org", usd_per_day: 1_000_000 }));
      budget = limit.status === 201 ? "org budget usd_per_day (reserve at admit, settle after)" : `none: POST /api/v1/limits answered ${limit.status}`;
      await limit.body?.cancel();
    }

    const body = JSON.stringify(PROMPT);
    const streamBody = JSON.stringify({ ...PROMPT, stream: true });
    const headers = { "content-type": "application/json", "user-agent": "airlock-bench/1" };
    const sends = (payload: string): Record<Variant, Send> => ({
      fixture: () => fetch(`${fixture.url}/v1/chat/completions`, { method: "POST", headers: { ...headers, authorization: "Bearer sk-bench" }, body: payload }),
      "pass-through": () => dispatch(PASS_HOST, "/v1/chat/completions", { method: "POST", headers: { ...headers, authorization: "Bearer sk-bench" }, body: payload }),
      airlock: () => dispatch(host, "/llm/openai/v1/chat/completions", { method: "POST", headers: { ...headers, authorization: `Bearer ${key}` }, body: payload }),
    });
    const whole = sends(body);
    const streamed = sends(streamBody);
    const check = await (await whole.airlock()).json() as { choices?: unknown[] };
    if (!check.choices?.length) throw new Error(`airlock did not answer a completion: ${JSON.stringify(check).slice(0, 300)}`);

    console.log(`\nModel gateway: POST chat/completions (${body.length} B), ${options.warmup} warm-up + ${options.requests} measured per variant; ${options.rounds} interleaved rounds; budget: ${budget}`);
    const samples = { c1: {} as Record<Variant, Sample>, c32: {} as Record<Variant, Sample>, ttfb: {} as Record<Variant, bigint[]> };
    for (const v of VARIANTS) {
      await run(v, whole[v], options.warmup, 1);
      await ttfbRun(v, streamed[v], Math.ceil(options.warmup / 4), []);
      samples.c1[v] = { latencies: [], wallNs: 0n };
      samples.c32[v] = { latencies: [], wallNs: 0n };
      samples.ttfb[v] = [];
    }
    const per = Math.ceil(options.requests / options.rounds);
    for (let round = 0; round < options.rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
      for (const v of order) await run(v, whole[v], per, 1, samples.c1[v]);
      for (const v of order) await ttfbRun(v, streamed[v], Math.ceil(per / 4), samples.ttfb[v]);
      for (const v of order) await run(v, whole[v], per, 32, samples.c32[v]);
    }
    const c1 = Object.fromEntries(VARIANTS.map((v) => [v, stats(samples.c1[v])])) as Record<Variant, Stats>;
    const c32 = Object.fromEntries(VARIANTS.map((v) => [v, stats(samples.c32[v])])) as Record<Variant, Stats>;
    const ttfb = Object.fromEntries(VARIANTS.map((v) => [v, stats({ latencies: samples.ttfb[v], wallNs: 1n })])) as Record<Variant, Stats>;

    const rows = [["variant", "c1 p50 µs", "c1 p99 µs", "stream TTFB p50 µs", "TTFB p99 µs", "c32 req/s", "c32 p50 µs"]];
    for (const v of VARIANTS) rows.push([v, c1[v].p50Us.toFixed(1), c1[v].p99Us.toFixed(1), ttfb[v].p50Us.toFixed(1), ttfb[v].p99Us.toFixed(1), String(c32[v].reqPerSec), c32[v].p50Us.toFixed(1)]);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(rows.map((r) => r.map((cell, i) => (i ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")).join("\n"));
    const overhead = {
      p50Us: +(c1.airlock.p50Us - c1["pass-through"].p50Us).toFixed(1),
      p99Us: +(c1.airlock.p99Us - c1["pass-through"].p99Us).toFixed(1),
      ttfbP50Us: +(ttfb.airlock.p50Us - ttfb["pass-through"].p50Us).toFixed(1),
      throughputPct: +((c32.airlock.reqPerSec / c32["pass-through"].reqPerSec) * 100).toFixed(1),
    };
    const verdict = (ok: boolean) => (ok ? "meets" : "MISSES");
    console.log(
      `Airlock − bare pass-through: p50 ${overhead.p50Us} µs (target ≤ 500: ${verdict(overhead.p50Us <= 500)}), p99 ${overhead.p99Us} µs (≤ 2000: ${verdict(overhead.p99Us <= 2000)}), ` +
        `stream TTFB p50 ${overhead.ttfbP50Us} µs (≤ 500: ${verdict(overhead.ttfbP50Us <= 500)}); c32 throughput ${overhead.throughputPct} % of bare (≥ 50 %: ${verdict(overhead.throughputPct >= 50)})`,
    );
    const report = { at: new Date().toISOString(), cpus: cpus().length, node: process.version, budget, requests: options.requests, warmup: options.warmup, rounds: options.rounds, c1, c32, ttfb, overhead };
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Wrote ${relative(ROOT, options.out)}.`);
    return 0;
  } finally {
    await mf.dispose();
    await fixture.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { "no-budget": { type: "boolean", default: false }, requests: { type: "string", default: "2000" }, warmup: { type: "string", default: "200" }, rounds: { type: "string", default: "30" }, out: { type: "string", default: join(DIST, "bench-llm.json") } } });
  process.exitCode = await llmBench({ requests: Number(values.requests), warmup: Number(values.warmup), rounds: Number(values.rounds), out: values.out, budget: !values["no-budget"] });
}
