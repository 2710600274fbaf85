// The bench-only Workers that run in the same Miniflare as Airlock and are dispatched exactly
// like it. Two references: whatever they cost is the platform (dispatch, routing, workerd), so
// "Airlock minus bare Worker" is what Airlock's own code costs. And the guardrail's caller
// (`inspectCaller`): one RPC to airlock-guardrail, with or without inspection, so "inspect
// minus noop" is what inspection adds to a request. And airlock-auth's caller (`authCaller`):
// AUTH.authenticate() against AUTH.resolveOrg() over the same hop, so their difference is
// what authenticating a credential costs.
import type { V4WorkerOptions } from "./mesh.ts";

/** Same answer shape as the fixture: small static JSON. */
const HELLO = `
const body = { ok: true, from: "bare-hello" };
export default {
  fetch() {
    return Response.json(body);
  },
};
`;

/** Forwards method, path, query, headers and body to the fixture and returns its response. */
const PASS_THROUGH = `
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(env.UPSTREAM + url.pathname + url.search, request));
  },
};
`;

export function bareWorkers(options: { compatibilityDate: string; upstream: string; helloRoute: string; passThroughRoute: string }): V4WorkerOptions[] {
  const common = { compatibilityDate: options.compatibilityDate, modules: true } as const;
  return [
    { ...common, name: "bench-bare-hello", script: HELLO, routes: [options.helloRoute] },
    { ...common, name: "bench-bare-pass-through", script: PASS_THROUGH, routes: [options.passThroughRoute], bindings: { UPSTREAM: options.upstream } },
  ] as V4WorkerOptions[];
}

/**
 * The guardrail's caller, reduced to the call: a service binding to airlock-guardrail's
 * `GuardrailService` entrypoint, as the router and the MCP gateway hold one.
 *   GET /inspect?org=…&prompt=clean|sensitive|empty&expect=<action>[&full]
 *       → GUARDRAIL.inspect({ org_id, config_version: 1, request_id, direction: "prompt", text })
 *         on a prompt held in a JSON binding (so every variant's request is the same small GET);
 *         answers 500 with the whole result unless the action is `expect` and nothing failed.
 *   GET /noop → GUARDRAIL.health(): the same RPC hop with no inspection (health runs
 *       `SELECT 1` on D1, which inspect does not do in steady state).
 */
const INSPECT_CALLER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/noop") {
      const health = await env.GUARDRAIL.health();
      return Response.json(health, { status: health.ok ? 200 : 500 });
    }
    if (url.pathname === "/inspect") {
      const text = env.PROMPTS[url.searchParams.get("prompt")];
      if (typeof text !== "string") return Response.json({ error: "unknown prompt" }, { status: 400 });
      const result = await env.GUARDRAIL.inspect({
        org_id: url.searchParams.get("org"),
        config_version: 1,
        request_id: "bench-" + crypto.randomUUID(),
        direction: "prompt",
        text,
      });
      const ok = result.action === url.searchParams.get("expect") && !result.error;
      const body = ok && !url.searchParams.has("full") ? { action: result.action, findings: result.findings.length } : result;
      return Response.json(body, { status: ok ? 200 : 500 });
    }
    return Response.json({ error: "not found" }, { status: 404 });
  },
};
`;

export function inspectCaller(options: { compatibilityDate: string; route: string; guardrail: string; prompts: Record<string, string> }): V4WorkerOptions {
  return {
    name: "bench-inspect-caller",
    compatibilityDate: options.compatibilityDate,
    modules: true,
    script: INSPECT_CALLER,
    routes: [options.route],
    bindings: { PROMPTS: options.prompts },
    serviceBindings: { GUARDRAIL: { name: options.guardrail, entrypoint: "GuardrailService" } },
  } as V4WorkerOptions;
}

/**
 * airlock-auth's caller, reduced to the call: a service binding to airlock-auth's
 * `AuthService` entrypoint, as the router holds one. Every request is the same small GET with
 * the credential in `Authorization: Bearer …` (sent to both paths, so they carry the same bytes).
 *   GET /authenticate?org=…&resource=…&expect=<principal kind>[&full]
 *       → AUTH.authenticate({ host: { kind: "org", slug }, credential, userAgent, resource }),
 *         as the router calls it for `/mcp/<server>` (resource = that server's URL);
 *         answers 500 with the whole result unless it is ok with a principal of kind `expect`.
 *   GET /resolve?org=… → AUTH.resolveOrg(slug): the same RPC hop and the org lookup
 *       authenticate starts with (cached per isolate), with no config version and no credential work.
 */
const AUTH_CALLER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const slug = url.searchParams.get("org");
    const header = request.headers.get("authorization");
    const credential = header && header.startsWith("Bearer ") ? header.slice(7) : null;
    if (url.pathname === "/resolve") {
      const org = await env.AUTH.resolveOrg(slug);
      return Response.json({ ok: org !== null }, { status: org && credential ? 200 : 500 });
    }
    if (url.pathname === "/authenticate") {
      const result = await env.AUTH.authenticate({
        host: { kind: "org", slug },
        credential,
        userAgent: request.headers.get("user-agent"),
        resource: url.searchParams.get("resource"),
      });
      const ok = result.ok && result.principal.kind === url.searchParams.get("expect");
      const body = ok && !url.searchParams.has("full") ? { ok: true } : result;
      return Response.json(body, { status: ok ? 200 : 500 });
    }
    return Response.json({ error: "not found" }, { status: 404 });
  },
};
`;

export function authCaller(options: { compatibilityDate: string; route: string; auth: string }): V4WorkerOptions {
  return {
    name: "bench-auth-caller",
    compatibilityDate: options.compatibilityDate,
    modules: true,
    script: AUTH_CALLER,
    routes: [options.route],
    serviceBindings: { AUTH: { name: options.auth, entrypoint: "AuthService" } },
  } as V4WorkerOptions;
}
