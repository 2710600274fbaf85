// AUTH.admit() with and without a limit reservation (issue 6), under Miniflare directly, in a
// Miniflare of its own. A bench Worker with a service binding to airlock-auth's AuthService (as
// the router holds one) makes each call; all at concurrency 1, interleaved rounds:
//   hello          a bare hello-world Worker (the dispatch floor)
//   resolve        AUTH.resolveOrg(slug) via the caller: the caller Worker and one RPC hop
//   admit          AUTH.admit() of invoke_model with no reservation asked (authenticate, the
//                  policy decision, one OrgState call that confirms the config version)
//   reserve-org    the same with `reserve`, for a key only the org's budget applies to: the same
//                  OrgState call also checks and holds 4 counters (rpm, tpm, $/day, $/month)
//   reserve-4      the same for a key whose key, user, team and org all have rules: 16 counters
//   admit+settle   reserve-4, then AUTH.settle() of it, in one caller request: settle's cost is
//                  admit+settle − reserve-4 (off the critical path: the router settles in waitUntil)
// "reservation added" = reserve-* − admit, in the same run. Limits are set high enough that
// nothing is refused (every answer is checked, or the run aborts).
// Run alone: `node --expose-gc scripts/bench/admit.ts [--requests 2000] [--warmup 200] [--rounds 4]`;
// `npm run bench` runs it after the other sections, with their --requests/--warmup/--rounds.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { DIST, ROOT, bundleAll } from "../build/bundle.ts";
import { bareWorkers } from "./bare-workers.ts";
import { run, stats, type Sample, type Send, type Stats } from "./measure.ts";
import { airlockWorkers, applyMigrations, wranglersMiniflare, type V4WorkerOptions, seeder } from "./mesh.ts";

const BASE_DOMAIN = "airlock.localhost";
const ORG = "acme";
const HELLO_HOST = "hello.bench.localhost";
const PASS_HOST = "pass.bench.localhost";
const CALLER_HOST = "admit.bench.localhost";
const VARIANTS = ["hello", "resolve", "admit", "reserve-org", "reserve-4", "admit+settle"] as const;
type Variant = (typeof VARIANTS)[number];

export interface AdmitBenchOptions {
  requests: number;
  warmup: number;
  rounds: number;
  out: string;
}

/**
 * The caller, reduced to the calls (credential in `Authorization: Bearer …`):
 *   GET /resolve?org=…                  → AUTH.resolveOrg(slug)
 *   GET /admit?org=…[&reserve]          → AUTH.admit({ … invoke_model …, reserve? }); 500 unless allowed and not limited
 *   GET /settle?org=…&org_id=…          → AUTH.admit(… reserve …), then AUTH.settle() of it
 */
const CALLER = `
let n = 0;
const admitInput = (url, credential, reserve) => ({
  request_id: "bench-" + (++n) + "-" + Math.random().toString(36).slice(2),
  host: { kind: "org", slug: url.searchParams.get("org") },
  credential,
  userAgent: "airlock-bench/1",
  action: "invoke_model",
  resource_entity: { type: "Model", id: "gpt-4o-mini", provider: { id: "openai", kind: "openai", consumer: false } },
  ...(reserve ? { reserve: { tokens: 1200, cost_micros: 900 } } : {}),
});
const good = (r) => r.ok && r.decision.decision === "allow" && !r.limited;
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const header = request.headers.get("authorization");
    const credential = header && header.startsWith("Bearer ") ? header.slice(7) : null;
    if (url.pathname === "/resolve") {
      const org = await env.AUTH.resolveOrg(url.searchParams.get("org"));
      return Response.json({ ok: org !== null }, { status: org ? 200 : 500 });
    }
    if (url.pathname === "/admit") {
      const result = await env.AUTH.admit(admitInput(url, credential, url.searchParams.has("reserve")));
      return Response.json(good(result) ? { ok: true } : result, { status: good(result) ? 200 : 500 });
    }
    if (url.pathname === "/settle") {
      const input = admitInput(url, credential, true);
      const result = await env.AUTH.admit(input);
      if (!good(result)) return Response.json(result, { status: 500 });
      await env.AUTH.settle({ org_id: url.searchParams.get("org_id"), request_id: input.request_id, tokens: 800, cost_micros: 600 });
      return Response.json({ ok: true });
    }
    return Response.json({ error: "not found" }, { status: 404 });
  },
};
`;

function caller(compatibilityDate: string, auth: string): V4WorkerOptions {
  return {
    name: "bench-admit-caller",
    compatibilityDate,
    modules: true,
    script: CALLER,
    routes: [`${CALLER_HOST}/*`],
    serviceBindings: { AUTH: { name: auth, entrypoint: "AuthService" } },
  } as V4WorkerOptions;
}

export async function admitBench(options: AdmitBenchOptions): Promise<number> {
  const bundles = await bundleAll();
  const { miniflare } = wranglersMiniflare();
  const router = bundles[0]!.worker;
  const authWorker = bundles.find((b) => b.configPath === "workers/auth/wrangler.toml")?.worker;
  if (!authWorker) throw new Error("no bundle for workers/auth/wrangler.toml");
  const masterKey = randomBytes(32).toString("base64");
  const operatorToken = `alk_op_bench_${randomBytes(16).toString("hex")}`;
  const airlock = airlockWorkers(bundles, {
    bindings: { "airlock-auth": { OPERATOR_TOKEN: operatorToken, MASTER_KEY: masterKey }, [router]: { MASTER_KEY: masterKey } },
    routes: { [router]: [`*.${BASE_DOMAIN}/*`] },
  });
  const compatibilityDate = (airlock[0] as { compatibilityDate?: string }).compatibilityDate ?? "2026-11-01";
  const bare = bareWorkers({ compatibilityDate, upstream: "http://127.0.0.1:9", helloRoute: `${HELLO_HOST}/*`, passThroughRoute: `${PASS_HOST}/*` });
  const errors: string[] = [];
  const mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({
      workers: [...airlock, ...bare, caller(compatibilityDate, authWorker)],
      cf: false,
      handleStructuredLogs: (log: { level: string; message: string }) => {
        if (log.level === "error" && errors.length < 10) errors.push(log.message.slice(0, 300));
      },
    } as Parameters<typeof miniflare.convertV4MiniflareOptions>[0]),
  );
  try {
    await mf.ready;
    await applyMigrations(mf, "workers/auth/wrangler.toml");
    const { dispatch, post, expectStatus } = seeder(mf);
    const host = `${ORG}.${BASE_DOMAIN}`;
    const org = await expectStatus(await dispatch(`api.${BASE_DOMAIN}`, "/v1/orgs", post(operatorToken, { slug: ORG, name: "Acme" })), 201, "create org");
    const admin = (await expectStatus(await dispatch(`api.${BASE_DOMAIN}`, `/v1/orgs/${ORG}/admin-tokens`, post(operatorToken, { name: "bench", role: "owner" })), 201, "admin token"))["secret"] as string;
    const api = (path: string, body: unknown, what: string) => dispatch(host, `/api/v1${path}`, post(admin, body)).then((r) => expectStatus(r, 201, what));
    const team = await api("/teams", { name: "bench" }, "team");
    const ruled = await api("/users", { email: "ruled@acme.test" }, "user");
    const plain = await api("/users", { email: "plain@acme.test" }, "user");
    await expectStatus(await dispatch(host, `/api/v1/teams/${team["id"]}/members/${ruled["id"]}`, post(admin, {}, "PUT")), 200, "membership");
    const ruledKey = await api("/api-keys", { name: "ruled", user_id: ruled["id"] }, "api key");
    const plainKey = await api("/api-keys", { name: "plain", user_id: plain["id"] }, "api key");
    // Limits far above what the bench spends: every check runs, nothing is refused.
    const high = { requests_per_minute: 1e9, tokens_per_minute: 1e9, usd_per_day: 1e8, usd_per_month: 1e9 };
    await api("/limits", { scope: "org", ...high }, "org limits");
    await api("/limits", { scope: "team", scope_id: team["id"], ...high }, "team limits");
    await api("/limits", { scope: "user", scope_id: ruled["id"], ...high }, "user limits");
    await api("/limits", { scope: "key", scope_id: ruledKey["id"], ...high }, "key limits");

    const bearer = (secret: string) => ({ headers: { authorization: `Bearer ${secret}` } });
    const sends: Record<Variant, Send> = {
      hello: () => dispatch(HELLO_HOST, "/admit", bearer(plainKey["secret"])),
      resolve: () => dispatch(CALLER_HOST, `/resolve?org=${ORG}`, bearer(plainKey["secret"])),
      admit: () => dispatch(CALLER_HOST, `/admit?org=${ORG}`, bearer(plainKey["secret"])),
      "reserve-org": () => dispatch(CALLER_HOST, `/admit?org=${ORG}&reserve`, bearer(plainKey["secret"])),
      "reserve-4": () => dispatch(CALLER_HOST, `/admit?org=${ORG}&reserve`, bearer(ruledKey["secret"])),
      "admit+settle": () => dispatch(CALLER_HOST, `/settle?org=${ORG}&org_id=${org["id"]}`, bearer(ruledKey["secret"])),
    };

    console.log(`\nAUTH.admit() with and without a reservation: ${options.warmup} warm-up + ${options.requests} measured calls per variant, ${options.rounds} interleaved rounds, concurrency 1`);
    const samples = {} as Record<Variant, Sample>;
    for (const v of VARIANTS) {
      await run(v, sends[v], options.warmup, 1);
      samples[v] = { latencies: [], wallNs: 0n };
    }
    const per = Math.ceil(options.requests / options.rounds);
    for (let round = 0; round < options.rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
      for (const v of order) await run(v, sends[v], per, 1, samples[v]);
    }
    const st = Object.fromEntries(VARIANTS.map((v) => [v, stats(samples[v])])) as Record<Variant, Stats>;

    const rows = [["variant", "p50 µs", "p99 µs", "mean µs"]];
    for (const v of VARIANTS) rows.push([v, st[v].p50Us.toFixed(1), st[v].p99Us.toFixed(1), st[v].meanUs.toFixed(1)]);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(rows.map((r) => r.map((cell, i) => (i ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")).join("\n"));
    const diff = (a: Variant, b: Variant) => ({ p50Us: +(st[a].p50Us - st[b].p50Us).toFixed(1), p99Us: +(st[a].p99Us - st[b].p99Us).toFixed(1) });
    const summary = {
      admitMinusResolve: diff("admit", "resolve"),
      reservationAddedOrgOnly: diff("reserve-org", "admit"),
      reservationAdded4Scopes: diff("reserve-4", "admit"),
      settle: diff("admit+settle", "reserve-4"),
    };
    console.log(
      `admit() beyond the RPC hop (admit − resolveOrg): p50 ${summary.admitMinusResolve.p50Us} µs, p99 ${summary.admitMinusResolve.p99Us} µs\n` +
        `reservation added, org budget only (reserve-org − admit): p50 ${summary.reservationAddedOrgOnly.p50Us} µs, p99 ${summary.reservationAddedOrgOnly.p99Us} µs\n` +
        `reservation added, key + user + team + org (reserve-4 − admit): p50 ${summary.reservationAdded4Scopes.p50Us} µs, p99 ${summary.reservationAdded4Scopes.p99Us} µs\n` +
        `settle() (admit+settle − reserve-4; off the critical path): p50 ${summary.settle.p50Us} µs, p99 ${summary.settle.p99Us} µs`,
    );
    if (errors.length) console.log(`Worker errors logged during the run:\n  ${errors.join("\n  ")}`);
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, JSON.stringify({ bench: "admit", options, variants: st, summary, errors }, null, 2));
    console.log(`(JSON: ${relative(ROOT, options.out)})`);
    return 0;
  } finally {
    await mf.dispose();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "2000" },
      warmup: { type: "string", default: "200" },
      rounds: { type: "string", default: "30" },
      out: { type: "string", default: join(DIST, "bench-admit.json") },
    },
  });
  process.exitCode = await admitBench({ requests: Number(values.requests), warmup: Number(values.warmup), rounds: Number(values.rounds), out: values.out });
}
