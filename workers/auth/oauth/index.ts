import { database } from "../../../shared/db/index.ts";
import { resourceOfIdentifier, resourceOfMetadataUrl, METADATA_PREFIX } from "../../../shared/protected-resource.ts";
import { REASON_HEADER, type OrgRequestContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";
import { currentVersion } from "../limits/version-lease.ts";
import { ssoCallback } from "../sso/callback.ts";
import { authorize, authorizationFailure, decideConsent } from "./authorize.ts";
import { SSO_CALLBACK_PATH, type IdentityRequest } from "./context.ts";
import { errorPage } from "./pages.ts";
import { AUTHORIZE_PATH, authorizationServer, CONSENT_PATH, namespaceRoots, REGISTER_PATH, RESOURCE_SCOPE, TOKEN_PATH } from "./server.ts";
import { oauthSettings } from "./settings.ts";
import { orgOAuthEnv } from "./store.ts";

const AS_METADATA_PATH = "/.well-known/oauth-authorization-server";

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const oauthError = (status: number, error: string, description: string) =>
  json({ error, error_description: description }, status, { "cache-control": "no-store", [REASON_HEADER]: error });

/**
 * The org's OAuth 2.1 authorization server at `https://<org>.<domain>`: RFC 8414 metadata,
 * RFC 9728 metadata for each protected resource, the authorization endpoint with SSO and
 * consent, and the library's token, revocation and registration endpoints.
 */
export async function serveIdentity(request: Request, context: OrgRequestContext, env: Env, executionCtx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  const db = database(env.DB);
  const version = await currentVersion(env, context.org.id);
  const ctx: IdentityRequest = {
    request, url, origin: url.origin, org: context.org, env, executionCtx, db, version,
    settings: await oauthSettings(db, context.org.id, version),
    oauthEnv: orgOAuthEnv(env, context.org.id),
  };
  try {
    return await route(ctx);
  } catch (error) {
    const failure = authorizationFailure(error);
    if (failure) return failure;
    console.error(JSON.stringify({ level: "error", worker: "auth", request_id: context.requestId, error: error instanceof Error ? error.message : String(error) }));
    return errorPage(500, "internal_error", "Something went wrong on our side", `Quote request id ${context.requestId} to support.`);
  }
}

async function route(ctx: IdentityRequest): Promise<Response> {
  const { url, request } = ctx;
  const path = url.pathname;
  const method = request.method;
  if (path === AS_METADATA_PATH) return authorizationServerMetadata(ctx);
  if (path === METADATA_PREFIX || path.startsWith(`${METADATA_PREFIX}/`)) return protectedResourceMetadata(ctx);
  if (path === AUTHORIZE_PATH) return method === "GET" ? authorize(ctx) : methodNotAllowed("GET");
  if (path === CONSENT_PATH) return method === "POST" ? decideConsent(ctx) : methodNotAllowed("POST");
  if (path === SSO_CALLBACK_PATH) return method === "GET" ? ssoCallback(ctx) : methodNotAllowed("GET");
  if (path === REGISTER_PATH && !ctx.settings.dynamicRegistration) {
    return oauthError(404, "access_denied", "Dynamic client registration is turned off for this org; use a client ID metadata document or a pre-registered client");
  }
  if (path === TOKEN_PATH || path === REGISTER_PATH) {
    const server = authorizationServer(ctx.origin, await tokenResources(ctx), ctx.settings);
    return server.fetch(request, ctx.oauthEnv, ctx.executionCtx);
  }
  return json({ error: "not_found", error_description: `No OAuth endpoint ${path}` }, 404);
}

const methodNotAllowed = (allow: string) => new Response(null, { status: 405, headers: { allow } });

/** RFC 8414. The set of resources is open (any MCP server or provider of the org), so none are listed. */
async function authorizationServerMetadata(ctx: IdentityRequest): Promise<Response> {
  const response = await authorizationServer(ctx.origin, namespaceRoots(ctx.origin), ctx.settings).fetch(ctx.request, ctx.oauthEnv, ctx.executionCtx);
  if (ctx.request.method !== "GET" || !response.ok) return response;
  const { protected_resources: _unlisted, ...metadata } = (await response.json()) as Record<string, unknown>;
  return json(metadata, 200, Object.fromEntries([...response.headers].filter(([name]) => name.startsWith("access-control-"))));
}

/** RFC 9728 §3, path-inserted: `/.well-known/oauth-protected-resource/mcp/<server>` describes `https://<org>/mcp/<server>`. */
function protectedResourceMetadata(ctx: IdentityRequest): Response {
  const cors = { "access-control-allow-origin": "*" };
  if (ctx.request.method === "OPTIONS") return new Response(null, { status: 204, headers: { ...cors, "access-control-allow-methods": "GET, HEAD, OPTIONS", "access-control-allow-headers": "*" } });
  if (ctx.request.method !== "GET" && ctx.request.method !== "HEAD") return methodNotAllowed("GET, HEAD, OPTIONS");
  const resource = resourceOfMetadataUrl(ctx.url);
  if (!resource) return json({ error: "not_found", error_description: "No protected resource here; resources are /mcp/<server> and /llm/<provider>" }, 404, cors);
  return json(
    {
      resource: resource.id,
      authorization_servers: [ctx.origin],
      scopes_supported: [RESOURCE_SCOPE[resource.kind]],
      bearer_methods_supported: ["header"],
      resource_name: resource.kind === "mcp" ? `MCP server ${resource.name} (${ctx.org.name})` : `Model provider ${resource.name} (${ctx.org.name})`,
    },
    200,
    { ...cors, "cache-control": "public, max-age=300" },
  );
}

/**
 * The resources a token request is about, so the library's server for them is used: the
 * resource of the grant the code or refresh token belongs to (tokens are
 * `<user>:<grant>:<secret>`, the grant found through the library's listing) and the
 * `resource` parameter when it names one of the org's (RFC 8707 §2.2). With both, the
 * library refuses a request that would retarget the grant with `invalid_target`; with
 * neither, it gets the namespace roots and refuses with the RFC's error.
 */
async function tokenResources(ctx: IdentityRequest): Promise<string[]> {
  const roots = namespaceRoots(ctx.origin);
  if (ctx.request.method !== "POST" || ctx.url.pathname !== TOKEN_PATH) return roots;
  const body = new URLSearchParams(await ctx.request.clone().text());
  const named = body.getAll("resource");
  const requested = named.length === 1 ? resourceOfIdentifier(ctx.origin, named[0]!)?.id : undefined;
  const granted = await grantResource(ctx, body.get("code") ?? body.get("refresh_token") ?? "");
  const resources = [...new Set([requested, granted].filter((id): id is string => id !== undefined))];
  return resources.length ? resources : roots;
}

async function grantResource(ctx: IdentityRequest, credential: string): Promise<string | undefined> {
  const [userId, grantId] = credential.split(":");
  if (!userId || !grantId) return undefined;
  const oauth = authorizationServer(ctx.origin, namespaceRoots(ctx.origin), ctx.settings).getOAuthApi(ctx.oauthEnv);
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const grants = await oauth.listUserGrants(userId, { limit: 1000, ...(cursor ? { cursor } : {}) });
    const grant = grants.items.find((item) => item.id === grantId);
    if (grant) return typeof grant.resource === "string" ? resourceOfIdentifier(ctx.origin, grant.resource)?.id : undefined;
    if (!grants.cursor) return undefined;
    cursor = grants.cursor;
  }
  return undefined;
}
