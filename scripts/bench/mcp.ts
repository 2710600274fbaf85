// The MCP gateway's overhead (issue 7), under Miniflare directly, against fixture MCP servers on
// loopback (test/fixtures/mcp/server.ts: the SDK's Streamable HTTP server, SSE answers). In one
// run, interleaved:
//   fixture       POST /mcp on the fixture with Node's fetch, in a session opened directly (floor)
//   pass-through  a bare Worker forwarding the same request (same session) to the fixture
//   airlock       POST /mcp/<server> on acme's host with an API key, in a gateway session: the
//                 router authenticates (AUTH.authenticate, reused until its lease ends), the
//                 gateway reads its registry from the isolate cache, opens the sealed session id,
//                 checks the tool's pin, the Cedar decision (arguments as facts) and the
//                 guardrails on the arguments run together in the gateway's isolate, under the
//                 org's active policy set and guardrail rules as of its config version, the server's
//                 own secret goes upstream, the answer's JSON-RPC result is inspected in the SSE
//                 stream (direction tool_result).
// Scenarios: (a) tools/call `echo` at concurrency 1 (target: airlock − pass-through p50 ≤ 0.75 ms,
// p99 ≤ 3 ms); (b) tools/list of a virtual server composing 3 servers with 200 tools in all (pins
// checked, one Cedar decision call over the 200, names prefixed), against a pass-through tools/list of
// one of the three upstreams (the fan-out is parallel; target ≤ 5 ms added).
// Run alone: `node --expose-gc scripts/bench/mcp.ts [--requests 2000] [--warmup 200] [--rounds 4]`;
// `npm run bench` runs it after the other sections, with their --requests/--warmup.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { startMcpFixture, type McpFixture } from "../../test/fixtures/mcp/server.ts";
import { DIST, ROOT, bundleAll } from "../build/bundle.ts";
import { bareWorkers } from "./bare-workers.ts";
import { run, stats, type Sample, type Send, type Stats } from "./measure.ts";
import { airlockWorkers, applyMigrations, wranglersMiniflare, seeder } from "./mesh.ts";

const BASE_DOMAIN = "airlock.localhost";
const ORG = "acme";
const PASS_HOST = "pass.bench.localhost";
const HELLO_HOST = "hello.bench.localhost";
const VARIANTS = ["fixture", "pass-through", "airlock"] as const;
type Variant = (typeof VARIANTS)[number];
/** Three upstreams whose tools add up to 200 (each fixture lists 18 of its own + extras). */
const EXTRA_TOOLS = [49, 49, 48];
const PROTOCOL = "2025-11-25";

export interface McpBenchOptions {
  requests: number;
  warmup: number;
  rounds: number;
  out: string;
}

const INIT = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: "airlock-bench", version: "1" } } };
const mcpHeaders = (session: string, extra: Record<string, string> = {}) => ({
  "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": PROTOCOL, "mcp-session-id": session, ...extra,
});

/** initialize + notifications/initialized through `send`; the session id the answer set. */
async function openSession(send: (body: unknown, headers: Record<string, string>) => Promise<Response>): Promise<string> {
  const answer = await send(INIT, { "content-type": "application/json", accept: "application/json, text/event-stream" });
  const session = answer.headers.get("mcp-session-id");
  const text = await answer.text();
  if (answer.status !== 200 || !session) throw new Error(`initialize answered ${answer.status} without a session: ${text.slice(0, 300)}`);
  const initialized = await send({ jsonrpc: "2.0", method: "notifications/initialized" }, mcpHeaders(session));
  await initialized.body?.cancel();
  return session;
}

/** The JSON-RPC result in a JSON or SSE answer. */
async function resultOf(response: Response): Promise<Record<string, any>> {
  const text = await response.text();
  const data = text.startsWith("{") ? text : text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).pop() ?? "";
  const message = JSON.parse(data) as { result?: Record<string, any>; error?: unknown };
  if (!message.result) throw new Error(`no result: ${text.slice(0, 300)}`);
  return message.result;
}

/**
 * The router's event lines for /mcp requests, by method: where the time went, as the events
 * record it (router total, time inside the gateway, time waiting for the upstream's headers).
 */
const breakdown = new Map<string, { total: number[]; gateway: number[]; upstream: number[] }>();
const errors: string[] = [];
function collect(log: { level: string; message: string }) {
  if (log.level === "error" && errors.length < 10) errors.push(log.message.slice(0, 300));
  if (!log.message.startsWith("{") || !log.message.includes('"mcp.method.name"')) return;
  try {
    const event = JSON.parse(log.message) as Record<string, unknown>;
    const method = String(event["mcp.method.name"]);
    const entry = breakdown.get(method) ?? { total: [], gateway: [], upstream: [] };
    entry.total.push(Number(event["duration"]) * 1000);
    entry.gateway.push(Number(event["airlock.gateway_ms"]) * 1000);
    if (event["airlock.upstream_ms"] !== undefined) entry.upstream.push(Number(event["airlock.upstream_ms"]) * 1000);
    breakdown.set(method, entry);
  } catch {
    // not an event line
  }
}
const median = (values: number[]) => (values.length === 0 ? NaN : [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!);

export async function mcpBench(options: McpBenchOptions): Promise<number> {
  const fixtures: McpFixture[] = await Promise.all(EXTRA_TOOLS.map((extraTools) => startMcpFixture({ extraTools })));
  const bundles = await bundleAll();
  const { miniflare } = wranglersMiniflare();
  const router = bundles[0]!.worker;
  const masterKey = randomBytes(32).toString("base64");
  const operatorToken = `alk_op_bench_${randomBytes(16).toString("hex")}`;
  const airlock = airlockWorkers(bundles, {
    bindings: {
      "airlock-auth": { OPERATOR_TOKEN: operatorToken, MASTER_KEY: masterKey },
      "airlock-guardrail": { MASTER_KEY: masterKey },
      "airlock-mcp-proxy": { MASTER_KEY: masterKey, ALLOW_PRIVATE_UPSTREAMS: "true" },
      [router]: { MASTER_KEY: masterKey },
    },
    routes: { [router]: [`*.${BASE_DOMAIN}/*`] },
  });
  const compatibilityDate = (airlock[0] as { compatibilityDate?: string }).compatibilityDate ?? "2026-11-01";
  const upstream = new URL(fixtures[0]!.url).origin;
  const bare = bareWorkers({ compatibilityDate, upstream, helloRoute: `${HELLO_HOST}/*`, passThroughRoute: `${PASS_HOST}/*` });
  const mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({ workers: [...airlock, ...bare], cf: false, handleStructuredLogs: collect } as Parameters<typeof miniflare.convertV4MiniflareOptions>[0]),
  );
  try {
    await mf.ready;
    await applyMigrations(mf, "workers/auth/wrangler.toml");
    const { dispatch, post, expectStatus } = seeder(mf);
    const host = `${ORG}.${BASE_DOMAIN}`;
    await expectStatus(await dispatch(`api.${BASE_DOMAIN}`, "/v1/orgs", post(operatorToken, { slug: ORG, name: "Acme" })), 201, "create org");
    const admin = (await expectStatus(await dispatch(`api.${BASE_DOMAIN}`, `/v1/orgs/${ORG}/admin-tokens`, post(operatorToken, { name: "bench", role: "owner" })), 201, "admin token"))["secret"] as string;
    const names = ["bench-a", "bench-b", "bench-c"];
    for (const [i, fixture] of fixtures.entries()) {
      await expectStatus(await dispatch(host, "/api/v1/mcp-servers", post(admin, { name: names[i], url: fixture.url })), 201, `server ${names[i]}`);
    }
    await expectStatus(await dispatch(host, "/api/v1/mcp-virtual-servers", post(admin, { name: "bench-virtual", members: names.map((server) => ({ server })) })), 201, "virtual server");
    const user = await expectStatus(await dispatch(host, "/api/v1/users", post(admin, { email: "agent@acme.test" })), 201, "user");
    const key = (await expectStatus(await dispatch(host, "/api/v1/api-keys", post(admin, { name: "bench", user_id: user["id"] })), 201, "api key"))["secret"] as string;

    const auth = { authorization: `Bearer ${key}`, "user-agent": "airlock-bench/1" };
    const direct = await openSession((body, headers) => fetch(fixtures[0]!.url, { method: "POST", headers, body: JSON.stringify(body) }));
    const gateway = await openSession((body, headers) => dispatch(host, "/mcp/bench-a", { method: "POST", headers: { ...headers, ...auth }, body: JSON.stringify(body) }));
    const virtual = await openSession((body, headers) => dispatch(host, "/mcp/bench-virtual", { method: "POST", headers: { ...headers, ...auth }, body: JSON.stringify(body) }));

    const sends = (body: string): Record<Variant, Send> => ({
      fixture: () => fetch(fixtures[0]!.url, { method: "POST", headers: mcpHeaders(direct), body }),
      "pass-through": () => dispatch(PASS_HOST, "/mcp", { method: "POST", headers: mcpHeaders(direct), body }),
      airlock: () => dispatch(host, "/mcp/bench-a", { method: "POST", headers: mcpHeaders(gateway, auth), body }),
    });
    const call = sends(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "hello from the bench" } } }));
    const list = sends(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }));
    // The gateway's floor for a request with no policy or inspection: authenticate, session, relay.
    const ping = sends(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "ping" }));
    const listVirtual: Send = () => dispatch(host, "/mcp/bench-virtual", { method: "POST", headers: mcpHeaders(virtual, auth), body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }) });

    const echoed = await resultOf(await call.airlock());
    if (echoed["content"]?.[0]?.text !== "hello from the bench") throw new Error(`airlock tools/call answered ${JSON.stringify(echoed).slice(0, 300)}`);
    const virtualTools = (await resultOf(await listVirtual()))["tools"] as { name: string }[];
    if (virtualTools.length !== 200) throw new Error(`the virtual server listed ${virtualTools.length} tools, not 200`);
    const oneList = ((await resultOf(await list["pass-through"]()))["tools"] as unknown[]).length;

    console.log(`\nMCP gateway: tools/call echo and tools/list, ${options.warmup} warm-up + ${options.requests} measured per variant; ${options.rounds} interleaved rounds; concurrency 1`);
    const callSamples = {} as Record<Variant, Sample>;
    const pingSamples = {} as Record<Variant, Sample>;
    const listSamples = {} as Record<Variant | "virtual", Sample>;
    for (const v of VARIANTS) {
      await run(v, call[v], options.warmup, 1);
      await run(v, list[v], Math.ceil(options.warmup / 4), 1);
      await run(v, ping[v], Math.ceil(options.warmup / 4), 1);
      callSamples[v] = { latencies: [], wallNs: 0n };
      pingSamples[v] = { latencies: [], wallNs: 0n };
      listSamples[v] = { latencies: [], wallNs: 0n };
    }
    await run("virtual", listVirtual, Math.ceil(options.warmup / 4), 1);
    listSamples.virtual = { latencies: [], wallNs: 0n };
    const per = Math.ceil(options.requests / options.rounds);
    for (let round = 0; round < options.rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
      for (const v of order) await run(v, call[v], per, 1, callSamples[v]);
      for (const v of order) await run(v, ping[v], Math.ceil(per / 4), 1, pingSamples[v]);
      for (const v of order) await run(v, list[v], Math.ceil(per / 4), 1, listSamples[v]);
      await run("virtual", listVirtual, Math.ceil(per / 4), 1, listSamples.virtual);
    }
    const callStats = Object.fromEntries(VARIANTS.map((v) => [v, stats(callSamples[v])])) as Record<Variant, Stats>;
    const pingStats = Object.fromEntries(VARIANTS.map((v) => [v, stats(pingSamples[v])])) as Record<Variant, Stats>;
    const listStats = Object.fromEntries([...VARIANTS, "virtual" as const].map((v) => [v, stats(listSamples[v])])) as Record<Variant | "virtual", Stats>;

    const rows = [["variant", "ping p50 µs", "ping p99 µs", "call p50 µs", "call p99 µs", `list (${oneList} tools) p50 µs`, "list p99 µs"]];
    for (const v of VARIANTS) rows.push([v, pingStats[v].p50Us.toFixed(1), pingStats[v].p99Us.toFixed(1), callStats[v].p50Us.toFixed(1), callStats[v].p99Us.toFixed(1), listStats[v].p50Us.toFixed(1), listStats[v].p99Us.toFixed(1)]);
    rows.push(["airlock virtual (3 servers, 200 tools)", "", "", "", "", listStats.virtual.p50Us.toFixed(1), listStats.virtual.p99Us.toFixed(1)]);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(rows.map((r) => r.map((cell, i) => (i ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")).join("\n"));
    const overhead = {
      pingP50Us: +(pingStats.airlock.p50Us - pingStats["pass-through"].p50Us).toFixed(1),
      callP50Us: +(callStats.airlock.p50Us - callStats["pass-through"].p50Us).toFixed(1),
      callP99Us: +(callStats.airlock.p99Us - callStats["pass-through"].p99Us).toFixed(1),
      listP50Us: +(listStats.airlock.p50Us - listStats["pass-through"].p50Us).toFixed(1),
      virtualListP50Us: +(listStats.virtual.p50Us - listStats["pass-through"].p50Us).toFixed(1),
      virtualListP99Us: +(listStats.virtual.p99Us - listStats["pass-through"].p99Us).toFixed(1),
    };
    const verdict = (ok: boolean) => (ok ? "meets" : "MISSES");
    console.log(
      `ping (no policy, no inspection), Airlock − bare pass-through: p50 ${overhead.pingP50Us} µs\n` +
        `tools/call, Airlock − bare pass-through: p50 ${overhead.callP50Us} µs (target ≤ 750: ${verdict(overhead.callP50Us <= 750)}), p99 ${overhead.callP99Us} µs (≤ 3000: ${verdict(overhead.callP99Us <= 3000)})\n` +
        `tools/list, one server (${oneList} tools), Airlock − pass-through: p50 ${overhead.listP50Us} µs\n` +
        `tools/list, virtual server of 3 (200 tools) − pass-through list of one upstream: p50 ${overhead.virtualListP50Us} µs (target ≤ 5000: ${verdict(overhead.virtualListP50Us <= 5000)}), p99 ${overhead.virtualListP99Us} µs`,
    );
    console.log("Where the time went (medians from the router's events, µs): router total ⊃ inside the gateway ⊃ waiting for the upstream's headers");
    for (const [method, entry] of breakdown) {
      console.log(`  ${method.padEnd(26)} total ${median(entry.total).toFixed(0).padStart(6)}  gateway ${median(entry.gateway).toFixed(0).padStart(6)}  upstream ${median(entry.upstream).toFixed(0).padStart(6)}  (${entry.total.length} events)`);
    }
    for (const line of errors) console.log(`  error log: ${line}`);
    const report = { at: new Date().toISOString(), cpus: cpus().length, node: process.version, requests: options.requests, warmup: options.warmup, rounds: options.rounds, breakdownMedianUs: Object.fromEntries([...breakdown].map(([m, e]) => [m, { total: median(e.total), gateway: median(e.gateway), upstream: median(e.upstream) }])), ping: pingStats, call: callStats, list: listStats, oneServerTools: oneList, virtualTools: virtualTools.length, overhead };
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Wrote ${relative(ROOT, options.out)}.`);
    return 0;
  } finally {
    await mf.dispose();
    await Promise.all(fixtures.map((f) => f.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { requests: { type: "string", default: "2000" }, warmup: { type: "string", default: "200" }, rounds: { type: "string", default: "30" }, out: { type: "string", default: join(DIST, "bench-mcp.json") } } });
  process.exitCode = await mcpBench({ requests: Number(values.requests), warmup: Number(values.warmup), rounds: Number(values.rounds), out: values.out });
}
