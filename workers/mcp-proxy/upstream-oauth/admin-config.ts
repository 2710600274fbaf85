import type { z } from "@hono/zod-openapi";
import { eq, inArray } from "drizzle-orm";
import type { OAuthConfig } from "../../../shared/api/mcp-servers.ts";
import { database, schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import type { Env } from "../env.ts";
import { clientSecretPurpose } from "./client.ts";
import type { OAuthRow } from "./server-config.ts";

const { mcpServerOAuth, mcpOAuthTokens, mcpOAuthStates } = schema;

/** The OAuth part of a server's create/update body. */
type OAuthConfigInput = z.infer<typeof OAuthConfig>;

const hintOf = (value: string) => (value.length > 8 ? `…${value.slice(-4)}` : "…");

/** Never the client secret: a hint of it. */
export function serializeOAuth(row: OAuthRow | undefined) {
  if (!row) return null;
  return {
    client_id: row.clientId, client_secret_hint: row.clientSecretHint, scopes: row.scopes,
    authorization_endpoint: row.authorizationEndpoint, token_endpoint: row.tokenEndpoint,
  };
}

export async function oauthRowsOf(scope: OrgScope, serverIds: string[]): Promise<Map<string, OAuthRow>> {
  if (serverIds.length === 0) return new Map();
  const rows = await scope.db.select().from(mcpServerOAuth).where(scope.where(mcpServerOAuth, inArray(mcpServerOAuth.serverId, serverIds)));
  return new Map(rows.map((row) => [row.serverId, row]));
}

/** Explicit endpoints pass the same SSRF rule as server URLs, when registered. */
function checkEndpoint(env: Env, path: string, url: string | undefined) {
  if (url === undefined) return;
  try {
    assertPublicUrl(url, { allowPrivate: env.ALLOW_PRIVATE_UPSTREAMS === "true" });
  } catch (error) {
    if (!(error instanceof UnsafeUrlError)) throw error;
    throw new ProblemError("validation_failed", `The ${path} is not allowed: it ${error.message}`, [{ path: `oauth.${path}`, message: error.message }]);
  }
}

/**
 * The server's OAuth client row, checked and sealed, before anything is written (a secret left
 * out of a replacement is kept only if the client id is unchanged).
 */
export async function oauthValues(env: Env, scope: OrgScope, serverId: string, config: OAuthConfigInput, current: OAuthRow | undefined): Promise<OAuthRow> {
  checkEndpoint(env, "authorization_endpoint", config.authorization_endpoint);
  checkEndpoint(env, "token_endpoint", config.token_endpoint);
  const box = secretBox(database(env.DB), await masterKey(env.MASTER_KEY), scope.orgId);
  const kept = config.client_secret === undefined && current?.clientId === config.client_id;
  const values = {
    clientId: config.client_id,
    sealedClientSecret: config.client_secret ? await box.seal(config.client_secret, clientSecretPurpose(serverId)) : kept ? current!.sealedClientSecret : null,
    clientSecretHint: config.client_secret ? hintOf(config.client_secret) : kept ? current!.clientSecretHint : null,
    scopes: config.scopes,
    authorizationEndpoint: config.authorization_endpoint ?? null,
    tokenEndpoint: config.token_endpoint ?? null,
  };
  return { serverId, orgId: scope.orgId, ...values };
}

/** Writes it, to go in the same batch as the server's own row. */
export function upsertOAuth(scope: OrgScope, row: OAuthRow) {
  const { serverId: _, orgId: __, ...values } = row;
  return scope.db.insert(mcpServerOAuth).values(row)
    .onConflictDoUpdate({ target: mcpServerOAuth.serverId, set: values, setWhere: eq(mcpServerOAuth.orgId, scope.orgId) });
}

/** Every user's tokens and pending authorizations for the server: they were issued for its old URL or client. */
export function forgetTokens(scope: OrgScope, serverId: string) {
  return [
    scope.db.delete(mcpOAuthTokens).where(scope.where(mcpOAuthTokens, eq(mcpOAuthTokens.serverId, serverId))),
    scope.db.delete(mcpOAuthStates).where(scope.where(mcpOAuthStates, eq(mcpOAuthStates.serverId, serverId))),
  ] as const;
}

/** A server that leaves OAuth (or is removed) forgets its client too. */
export function forgetOAuth(scope: OrgScope, serverId: string) {
  return [...forgetTokens(scope, serverId), scope.db.delete(mcpServerOAuth).where(scope.where(mcpServerOAuth, eq(mcpServerOAuth.serverId, serverId)))] as const;
}

/** Whether users' tokens must go: a token is never sent to another URL, nor kept across a change of client or authorization server. */
export function rebinds(current: { url: string; oauth: OAuthRow | undefined }, next: { url: string; oauth: OAuthRow | undefined }): boolean {
  if (!current.oauth || !next.oauth) return false;
  return current.url !== next.url || current.oauth.clientId !== next.oauth.clientId
    || current.oauth.tokenEndpoint !== next.oauth.tokenEndpoint || current.oauth.authorizationEndpoint !== next.oauth.authorizationEndpoint;
}
