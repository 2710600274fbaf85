import { Hono, type Context } from "hono";
import { problem } from "../../shared/problem.ts";
import { resourceOfRequest, type ProtectedResource } from "../../shared/protected-resource.ts";
import type { PolicyDecisionAttributes } from "../../shared/policy-engine/decision-event.ts";
import { MCP_ATTRIBUTES_HEADER, MCP_CONTEXT_HEADER, MCP_FORWARDED_HEADERS, MCP_POLICY_ATTRIBUTE, MCP_REQUEST_ID_HEADER, type AuthResult } from "../../shared/rpc.ts";
import { authenticateCached } from "./auth-cache.ts";
import { bearerToken } from "./authenticate.ts";
import type { RouterEnv } from "./context.ts";
import { adoptReason } from "./events.ts";
import { serveModelGateway } from "./llm/serve.ts";
import { bodyBuffer } from "./middleware/json-body.ts";

/**
 * The org's protected resources: `/mcp/<server>` (the MCP gateway) and `/llm/<provider>`
 * (the model gateway). Each is an OAuth resource server (RFC 9728): without a valid token
 * the answer is 401 with `WWW-Authenticate: Bearer resource_metadata=…` pointing at the
 * resource's metadata, so an MCP client finds the org's authorization server; a token is
 * accepted only when issued for this very resource (RFC 8707 audience). Errors are in the
 * caller's protocol: JSON-RPC for MCP, OpenAI error objects for the model gateway.
 */
export const protectedResources = new Hono<RouterEnv>();

const SCOPE = { mcp: "mcp", llm: "llm" } as const;

/** RFC 6750 §3: quoted-string values may not hold `"` or `\`, and the grammar is ASCII. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, " ")}"`;

function challenge(resource: ProtectedResource, error?: { code: string; description: string }): string {
  const params = [
    `realm="airlock"`,
    ...(error ? [`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`] : []),
    `resource_metadata=${quoted(resource.metadataUrl)}`,
    `scope=${quoted(SCOPE[resource.kind])}`,
  ];
  return `Bearer ${params.join(", ")}`;
}

const decoder = new TextDecoder();

/** The JSON-RPC id of an MCP request, so an error answers it; null when there is none to answer. */
function jsonRpcId(body: Uint8Array | undefined): string | number | null {
  if (!body?.byteLength) return null;
  try {
    const id = (JSON.parse(decoder.decode(body)) as { id?: unknown } | null)?.id;
    return typeof id === "string" || typeof id === "number" ? id : null;
  } catch {
    return null;
  }
}

function answer(
  c: Context<RouterEnv>,
  kind: ProtectedResource["kind"],
  status: number,
  message: string,
  extra: { headers?: Record<string, string>; openAiCode?: string; jsonRpcCode?: number } = {},
): Response {
  const headers = { "content-type": "application/json", ...extra.headers };
  if (kind === "mcp") {
    const error = { code: extra.jsonRpcCode ?? -32000, message };
    return new Response(JSON.stringify({ jsonrpc: "2.0", id: jsonRpcId(c.get("body")), error }), { status, headers });
  }
  const type = status === 401 ? "authentication_error" : status === 403 ? "permission_error" : "invalid_request_error";
  return new Response(JSON.stringify({ error: { message, type, param: null, code: extra.openAiCode ?? null } }), { status, headers });
}

/** Authentication refusals: `invalid_token` (RFC 6750 §3.1) with what was wrong; none named when no token came. */
function refusal(c: Context<RouterEnv>, resource: ProtectedResource, result: Extract<AuthResult, { ok: false }>) {
  c.set("reason", result.code);
  if (result.code === "unknown_org") return answer(c, resource.kind, 404, "No org answers at this host", { openAiCode: "unknown_org", jsonRpcCode: -32001 });
  if (result.code === "unauthenticated") {
    return answer(c, resource.kind, 401, `Authentication required: sign in with OAuth (see ${resource.metadataUrl}) or send an Airlock API key`, {
      headers: { "www-authenticate": challenge(resource) },
      openAiCode: "missing_credential",
    });
  }
  return answer(c, resource.kind, 401, result.detail, {
    headers: { "www-authenticate": challenge(resource, { code: "invalid_token", description: result.detail }) },
    openAiCode: "invalid_token",
  });
}

/**
 * MCP_CONTEXT_HEADER per authentication answer: the cache hands a session the same answer
 * while it holds, and the gateway recognises the same text without parsing it again.
 */
const contextHeaders = new WeakMap<AuthResult, string>();

function contextHeaderOf(result: Extract<AuthResult, { ok: true }>): string {
  let header = contextHeaders.get(result);
  if (header === undefined) {
    header = JSON.stringify({ org: result.org!, principal: result.principal, configVersion: result.configVersion });
    contextHeaders.set(result, header);
  }
  return header;
}

async function serveProtected(c: Context<RouterEnv>, kind: ProtectedResource["kind"]): Promise<Response> {
  c.set("operation", kind);
  const requestId = c.get("requestId");
  const target = c.get("target");
  const resource = resourceOfRequest(c.get("url"));
  if (target?.kind !== "org") return problem("not_found", { detail: "MCP servers and model providers are served on an org's host", requestId });
  if (!resource) {
    c.set("reason", "not_found");
    return answer(c, kind, 404, `Address a ${kind === "mcp" ? "server as /mcp/<server>" : "provider as /llm/<provider>/…"}`, { openAiCode: "not_found", jsonRpcCode: -32001 });
  }

  // The model gateway admits (identity, policy, reservation) in one call of its own, reading the key from whichever header the SDK sends.
  if (resource.kind === "llm") return serveModelGateway(c, target.slug, resource.id, { challenge: (error) => challenge(resource, error) });

  const credential = bearerToken(c.req.header("authorization"));
  if (credential === "") {
    c.set("reason", "invalid_request");
    return answer(c, resource.kind, 400, "The Authorization header must be `Bearer <token>`", {
      headers: { "www-authenticate": challenge(resource, { code: "invalid_request", description: "The Authorization header must be Bearer <token>" }) },
      openAiCode: "invalid_request",
    });
  }
  const input = { host: target, credential, userAgent: c.req.header("user-agent") ?? null, resource: resource.id };
  const result = await authenticateCached(c.env.AUTH, input, (promise) => c.executionCtx.waitUntil(promise));
  c.set("org", result.org);
  if (!result.ok) return refusal(c, resource, result);
  const { principal, configVersion } = result;
  c.set("principal", principal);
  c.set("configVersion", configVersion);
  if (principal.kind !== "oauth" && principal.kind !== "api_key") {
    c.set("reason", "forbidden");
    return answer(c, resource.kind, 403, "Admin tokens are for the admin API; agents use OAuth or an API key", {
      headers: { "www-authenticate": challenge(resource, { code: "insufficient_scope", description: "Admin tokens are for the admin API" }) },
      openAiCode: "forbidden",
    });
  }

  const headers: Record<string, string> = { [MCP_CONTEXT_HEADER]: contextHeaderOf(result), [MCP_REQUEST_ID_HEADER]: requestId };
  for (const name of MCP_FORWARDED_HEADERS) {
    const value = c.req.raw.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const body = c.get("body");
  const forwarded = new Request(c.get("url"), { method: c.req.method, headers, body: body?.byteLength ? body : null });
  return adoptMcpAttributes(c, adoptReason(c, await c.env.MCP_PROXY.fetch(forwarded)));
}

/** The MCP gateway's attributes of this request (method, tool, decision and its record…) go on its one event; the header never leaves. */
function adoptMcpAttributes(c: Context<RouterEnv>, response: Response): Response {
  const header = response.headers.get(MCP_ATTRIBUTES_HEADER);
  if (header === null) return response;
  const out = new Response(response.body, response);
  out.headers.delete(MCP_ATTRIBUTES_HEADER);
  try {
    const { [MCP_POLICY_ATTRIBUTE]: decision, ...attributes } = JSON.parse(header) as Record<string, string | number | boolean> & { [MCP_POLICY_ATTRIBUTE]?: PolicyDecisionAttributes };
    const reason = typeof attributes["airlock.reason"] === "string" ? attributes["airlock.reason"] : undefined;
    const policy = decision && typeof decision === "object" ? { policy: () => decision } : {};
    c.set("outcome", Promise.resolve({ attributes, endedAt: performance.now(), ...(reason ? { reason } : {}), ...policy }));
  } catch {
    // Attributes are a courtesy to the event; a malformed header only loses them.
  }
  return out;
}

protectedResources.all("/mcp/*", bodyBuffer, (c) => serveProtected(c, "mcp"));
protectedResources.all("/llm/*", bodyBuffer, (c) => serveProtected(c, "llm"));
