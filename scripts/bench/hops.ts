// What a hop between two Workers costs in workerd, by how the caller crosses it: the figures
// behind the mesh's hot-path choices (the router reaches the MCP gateway with the service
// binding's own `fetch`, not a JS RPC method taking a Request; guardrails scan in the caller).
// Two tiny Workers under Miniflare directly, concurrency 1, interleaved rounds; each variant
// minus `hello` (the caller answering alone) is the hop.
// Run: `npx node scripts/bench/hops.ts [--requests 1500]`.
import { parseArgs } from "node:util";
import { stats } from "./measure.ts";
import { wranglersMiniflare } from "./mesh.ts";

const { values } = parseArgs({ options: { requests: { type: "string", default: "1500" }, rounds: { type: "string", default: "3" } } });
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);

const callee = `import { WorkerEntrypoint } from "cloudflare:workers";
export class Callee extends WorkerEntrypoint {
  small(input) { return { ok: true, n: input.n + 1 }; }
  async request(request) { return new Response(await request.text(), { headers: { "content-type": "application/json" } }); }
  async fetch(request) { return new Response(await request.text(), { headers: { "content-type": "application/json" } }); }
}
export default { fetch: () => new Response(null, { status: 404 }) };`;

const caller = `const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "hello" } } });
export default { async fetch(request, env) {
  const variant = new URL(request.url).pathname.slice(1);
  if (variant === "hello") return new Response(body);
  if (variant === "rpc-small") return Response.json(await env.CALLEE.small({ n: 1 }));
  if (variant === "rpc-two-serial") { await env.CALLEE.small({ n: 1 }); return Response.json(await env.CALLEE.small({ n: 2 })); }
  const forwarded = new Request("https://callee/mcp", { method: "POST", body });
  if (variant === "rpc-request-response") { const r = await env.CALLEE.request(forwarded); return new Response(r.body, r); }
  if (variant === "binding-fetch") { const r = await env.CALLEE.fetch(forwarded); return new Response(r.body, r); }
  return new Response(null, { status: 404 });
} };`;

const VARIANTS = [
  ["hello", "the caller answers alone (the floor)"],
  ["rpc-small", "one JS RPC call with a small object each way"],
  ["rpc-two-serial", "two such calls, one after the other"],
  ["rpc-request-response", "JS RPC method taking a Request and returning a Response"],
  ["binding-fetch", "the service binding's own fetch with the same Request"],
] as const;

const { miniflare } = wranglersMiniflare();
const mf = new miniflare.Miniflare(miniflare.convertV4MiniflareOptions({
  workers: [
    { name: "caller", modules: true, script: caller, compatibilityDate: "2026-05-01", serviceBindings: { CALLEE: { name: "callee", entrypoint: "Callee" } }, routes: ["caller.bench.localhost/*"] },
    { name: "callee", modules: true, script: callee, compatibilityDate: "2026-05-01" },
  ],
  cf: false,
} as Parameters<typeof miniflare.convertV4MiniflareOptions>[0]));
try {
  await mf.ready;
  const samples = Object.fromEntries(VARIANTS.map(([id]) => [id, { latencies: [] as bigint[], wallNs: 1n }]));
  const once = async (id: string) => {
    const started = process.hrtime.bigint();
    const response = await mf.dispatchFetch(`https://caller.bench.localhost/${id}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${id} answered ${response.status}`);
    return process.hrtime.bigint() - started;
  };
  for (const [id] of VARIANTS) for (let i = 0; i < 200; i++) await once(id);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [id] of VARIANTS) for (let i = 0; i < Math.ceil(REQUESTS / ROUNDS); i++) samples[id]!.latencies.push(await once(id));
  }
  const hello = stats(samples["hello"]!);
  console.log(`Hops between two Workers in workerd, concurrency 1, ${REQUESTS} requests per variant (µs; "added" = minus hello)`);
  for (const [id, what] of VARIANTS) {
    const s = stats(samples[id]!);
    console.log(`${id.padEnd(22)} p50 ${s.p50Us.toFixed(1).padStart(7)}  added ${(s.p50Us - hello.p50Us).toFixed(1).padStart(6)}   ${what}`);
  }
} finally {
  await mf.dispose();
}
