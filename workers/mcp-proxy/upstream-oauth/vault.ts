import { and, eq } from "drizzle-orm";
import { database, orgScope, schema } from "../../../shared/db/index.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import type { Env } from "../env.ts";
import { tokenPurpose, type OAuthClient } from "./client.ts";
import { GrantRefused, requestTokens, revokeUpstream, type TokenSet } from "./token-endpoint.ts";

const { mcpOAuthTokens } = schema;
/** Refresh this long before the stated expiry, so a token does not lapse in flight. */
const EXPIRY_SKEW_MS = 30_000;

export interface VaultKey {
  orgId: string;
  serverId: string;
  userId: string;
}

async function boxOf(env: Env, orgId: string) {
  return secretBox(database(env.DB), await masterKey(env.MASTER_KEY), orgId);
}

function rowOf(env: Env, key: VaultKey) {
  const scope = orgScope(database(env.DB), key.orgId);
  return scope.db.query.mcpOAuthTokens.findFirst({
    where: scope.where(mcpOAuthTokens, eq(mcpOAuthTokens.serverId, key.serverId), eq(mcpOAuthTokens.userId, key.userId)),
  });
}

/** Where a user's tokens are refreshed and revoked: the authorization server that issued them. */
export interface Issuer {
  tokenEndpoint: string;
  revocationEndpoint: string | null;
}

/** Stores a token response sealed; a response without a refresh token keeps the one already held. */
export async function storeTokens(env: Env, key: VaultKey, tokens: TokenSet, issuer: Issuer, keptRefresh: string | null = null): Promise<void> {
  const box = await boxOf(env, key.orgId);
  const refresh = tokens.refresh_token ?? keptRefresh;
  const now = Date.now();
  const values = {
    sealedAccessToken: await box.seal(tokens.access_token, tokenPurpose(key.serverId, key.userId, "access")),
    sealedRefreshToken: refresh ? await box.seal(refresh, tokenPurpose(key.serverId, key.userId, "refresh")) : null,
    expiresAt: tokens.expires_in ? now + tokens.expires_in * 1000 : null,
    scope: tokens.scope ?? null,
    ...issuer,
    updatedAt: now,
  };
  await database(env.DB).insert(mcpOAuthTokens).values({ ...key, ...values, createdAt: now })
    .onConflictDoUpdate({ target: [mcpOAuthTokens.serverId, mcpOAuthTokens.userId], set: values });
}

/**
 * Revocation: the user's tokens are deleted here, then the refresh token is revoked at the
 * upstream too when it has an RFC 7009 endpoint (best effort: the tokens are gone from Airlock either way).
 */
export async function revokeTokens(env: Env, key: VaultKey, client: OAuthClient | null): Promise<boolean> {
  const row = await rowOf(env, key);
  if (!row || !(await deleteTokens(env, key))) return false;
  opened.delete(idOf(key));
  if (client && row.revocationEndpoint) {
    const box = await boxOf(env, key.orgId);
    const [token, hint] = row.sealedRefreshToken
      ? [await box.open(row.sealedRefreshToken, tokenPurpose(key.serverId, key.userId, "refresh")), "refresh_token"]
      : [await box.open(row.sealedAccessToken, tokenPurpose(key.serverId, key.userId, "access")), "access_token"];
    await revokeUpstream(row.revocationEndpoint, client, token, hint, env.ALLOW_PRIVATE_UPSTREAMS === "true").catch((error: unknown) => {
      console.error(JSON.stringify({ level: "warn", worker: "mcp-proxy", event: "upstream_revocation_failed", server_id: key.serverId, error: error instanceof Error ? error.message : String(error) }));
    });
  }
  return true;
}

export async function deleteTokens(env: Env, key: VaultKey): Promise<boolean> {
  const scope = orgScope(database(env.DB), key.orgId);
  const deleted = await scope.db.delete(mcpOAuthTokens)
    .where(scope.where(mcpOAuthTokens, eq(mcpOAuthTokens.serverId, key.serverId), eq(mcpOAuthTokens.userId, key.userId)))
    .returning({ serverId: mcpOAuthTokens.serverId });
  return deleted.length > 0;
}

const idOf = (key: VaultKey) => `${key.orgId}/${key.serverId}/${key.userId}`;

/** Per isolate: one refresh at a time per (org, server, user), so concurrent calls do not spend a rotating refresh token twice. */
const refreshing = new Map<string, Promise<string | null>>();

/**
 * Per isolate: opened access tokens, so steady state reads no D1 row. Keyed by the org's
 * config version, which a revocation through the API bumps; a refresh here replaces the entry.
 */
const opened = new Map<string, { version: number; token: string; expiresAt: number | null }>();
const MAX_OPENED = 10_000;

function remember(key: VaultKey, version: number, token: string, expiresAt: number | null) {
  if (opened.size >= MAX_OPENED) opened.clear();
  opened.set(idOf(key), { version, token, expiresAt });
}

/**
 * Exchanges the stored refresh token for a new access token (rotating the stored refresh
 * token when the AS issues a new one). Null when there is nothing to refresh with or the
 * AS refuses: the tokens are then deleted and the user must connect again.
 */
export function refreshAccessToken(env: Env, key: VaultKey, client: OAuthClient, resource: string): Promise<string | null> {
  const id = idOf(key);
  opened.delete(id);
  let pending = refreshing.get(id);
  if (!pending) {
    pending = refreshOnce(env, key, client, resource).finally(() => refreshing.delete(id));
    refreshing.set(id, pending);
  }
  return pending;
}

async function refreshOnce(env: Env, key: VaultKey, client: OAuthClient, resource: string): Promise<string | null> {
  const row = await rowOf(env, key);
  if (!row?.sealedRefreshToken) {
    if (row) await deleteTokens(env, key);
    return null;
  }
  const box = await boxOf(env, key.orgId);
  const refreshToken = await box.open(row.sealedRefreshToken, tokenPurpose(key.serverId, key.userId, "refresh"));
  try {
    const tokens = await requestTokens(row.tokenEndpoint, client, resource, { grant_type: "refresh_token", refresh_token: refreshToken }, env.ALLOW_PRIVATE_UPSTREAMS === "true");
    await storeTokens(env, key, tokens, { tokenEndpoint: row.tokenEndpoint, revocationEndpoint: row.revocationEndpoint }, refreshToken);
    return tokens.access_token;
  } catch (error) {
    if (!(error instanceof GrantRefused)) throw error;
    // Another isolate may have rotated the refresh token first: its newer row wins.
    const latest = await rowOf(env, key);
    if (latest && latest.updatedAt !== row.updatedAt) return box.open(latest.sealedAccessToken, tokenPurpose(key.serverId, key.userId, "access"));
    await database(env.DB).delete(mcpOAuthTokens).where(and(
      eq(mcpOAuthTokens.orgId, key.orgId), eq(mcpOAuthTokens.serverId, key.serverId), eq(mcpOAuthTokens.userId, key.userId), eq(mcpOAuthTokens.updatedAt, row.updatedAt),
    ));
    return null;
  }
}

const fresh = (expiresAt: number | null) => expiresAt === null || expiresAt - EXPIRY_SKEW_MS > Date.now();

/** The user's current upstream access token (refreshed first when it is about to expire), or null when not connected. */
export async function accessToken(env: Env, key: VaultKey, client: OAuthClient, resource: string, configVersion: number): Promise<string | null> {
  const cached = opened.get(idOf(key));
  if (cached && cached.version === configVersion && fresh(cached.expiresAt)) return cached.token;
  const row = await rowOf(env, key);
  if (!row) return null;
  if (!fresh(row.expiresAt)) return refreshAccessToken(env, key, client, resource);
  const box = await boxOf(env, key.orgId);
  const token = await box.open(row.sealedAccessToken, tokenPurpose(key.serverId, key.userId, "access"));
  remember(key, configVersion, token, row.expiresAt);
  return token;
}
