import { OAuthAuthorizationServer } from "@cloudflare/workers-oauth-provider";
import { REASON_HEADER } from "../../../shared/rpc.ts";
import type { ProtectedResource, ResourceKind } from "../../../shared/protected-resource.ts";
import type { OAuthSettings } from "./settings.ts";
import type { OrgOAuthEnv } from "./store.ts";

export const AUTHORIZE_PATH = "/oauth/authorize";
export const CONSENT_PATH = "/oauth/consent";
export const TOKEN_PATH = "/oauth/token";
export const REGISTER_PATH = "/oauth/register";

/** What a token may be used for at its resource; `offline_access` asks for a refresh token. */
export const RESOURCE_SCOPE: Record<ResourceKind, string> = { mcp: "mcp", llm: "llm" };
const SCOPES_SUPPORTED = ["mcp", "llm", "offline_access"];

/**
 * The library fixes an authorization server's resources at construction, and without a
 * registry every `/mcp/<server>` and `/llm/<provider>` of the org is a resource. So a server
 * is built for the resource a request names. When a request names none (or none that is
 * well formed), it is built with the two namespace roots, which no code path grants: with
 * two resources and no default the library refuses a missing `resource` with
 * `invalid_target`, after it has validated the client and redirect URI, as RFC 8707 asks.
 */
export const namespaceRoots = (origin: string) => [`${origin}/mcp`, `${origin}/llm`];

/**
 * Built servers, per isolate. The key holds everything a server is built from: the
 * issuer (origin), its resources and the org's settings, which change only with the
 * org's config version. Servers hold no per-org state: the org's KV slice is passed per call.
 */
const MAX_SERVERS = 1_000;
const servers = new Map<string, OAuthAuthorizationServer<OrgOAuthEnv>>();

export function authorizationServer(origin: string, resources: string[], settings: OAuthSettings): OAuthAuthorizationServer<OrgOAuthEnv> {
  const key = JSON.stringify([origin, resources, settings]);
  let server = servers.get(key);
  if (!server) {
    server = new OAuthAuthorizationServer<OrgOAuthEnv>({
      issuer: origin,
      resources,
      authorizeEndpoint: AUTHORIZE_PATH,
      tokenEndpoint: TOKEN_PATH,
      ...(settings.dynamicRegistration ? { clientRegistrationEndpoint: REGISTER_PATH } : {}),
      clientIdMetadataDocumentEnabled: settings.clientMetadataDocuments,
      scopesSupported: SCOPES_SUPPORTED,
      accessTokenTTL: settings.accessTokenTtlSeconds,
      // The library's own error response, marked with its code so the router's event names it.
      onError: ({ code, description, status, headers }) =>
        new Response(JSON.stringify({ error: code, error_description: description }), {
          status,
          headers: { ...headers, "content-type": "application/json", "cache-control": "no-store", [REASON_HEADER]: code },
        }),
    });
    if (servers.size >= MAX_SERVERS) servers.clear();
    servers.set(key, server);
  }
  return server;
}

/** The scopes to grant: those requested that this resource knows, or its baseline scope. */
export function grantedScopes(requested: string[], resource: ProtectedResource): string[] {
  const known = new Set([RESOURCE_SCOPE[resource.kind], "offline_access"]);
  const granted = [...new Set(requested.filter((scope) => known.has(scope)))];
  return granted.some((scope) => scope !== "offline_access") ? granted : [RESOURCE_SCOPE[resource.kind], ...granted];
}
