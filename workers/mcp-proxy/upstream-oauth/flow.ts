import { eq, lt } from "drizzle-orm";
import { randomBase64Url, sha256Hex } from "../../../shared/crypto.ts";
import { database, orgScope, schema } from "../../../shared/db/index.ts";
import type { Org } from "../../../shared/principal.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import type { Env } from "../env.ts";
import { OAuthSetupError, verifierPurpose } from "./client.ts";
import { oauthServer } from "./server-config.ts";
import { CONNECT_PATH } from "./connect.ts";
import { endpointsOf } from "./discovery.ts";
import { page } from "./page.ts";
import { openTicket } from "./ticket.ts";
import { GrantRefused, requestTokens } from "./token-endpoint.ts";
import { storeTokens } from "./vault.ts";

const { mcpOAuthStates } = schema;
/** How long the user has to finish at the upstream's authorization server. */
const STATE_TTL_MS = 10 * 60_000;

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const s256 = async (verifier: string) => b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));

const allowPrivate = (env: Env) => env.ALLOW_PRIVATE_UPSTREAMS === "true";

/** `GET /mcp-connect/start?ticket=…` and `GET /mcp-connect/callback?code=…&state=…` on the org's host. */
export async function serveConnect(env: Env, request: Request, org: Org): Promise<Response> {
  const url = new URL(request.url);
  if (request.method !== "GET") return new Response(null, { status: 405, headers: { allow: "GET" } });
  try {
    if (url.pathname === `${CONNECT_PATH}/start`) return await start(env, url, org);
    if (url.pathname === `${CONNECT_PATH}/callback`) return await callback(env, url, org);
  } catch (error) {
    if (error instanceof OAuthSetupError) return page(502, "Could not connect", error.message);
    throw error;
  }
  return page(404, "Not found", "This address is not part of connecting an MCP server.");
}

/** Starts the upstream authorization: PKCE S256, a single-use state bound to org, user and server. */
async function start(env: Env, url: URL, org: Org): Promise<Response> {
  const ticket = await openTicket(env, org.id, url.searchParams.get("ticket") ?? "");
  if (!ticket) return page(400, "Link expired", "This connect link is invalid or has expired. Call the MCP server again to get a new one.");
  const server = await oauthServer(env, org.id, ticket.serverId);
  if (!server) return page(404, "Server not found", "The MCP server for this link is no longer registered for OAuth.");
  const { authorizationEndpoint, tokenEndpoint, revocationEndpoint, issuer } = await endpointsOf(server.url, server.oauth, allowPrivate(env));
  const state = randomBase64Url(32);
  const stateHash = await sha256Hex(state);
  const verifier = randomBase64Url(32);
  const redirectUri = `${url.origin}${CONNECT_PATH}/callback`;
  const box = secretBox(database(env.DB), await masterKey(env.MASTER_KEY), org.id);
  const scope = orgScope(database(env.DB), org.id);
  // Authorizations never finished are swept here, the one place that adds them.
  await scope.db.delete(mcpOAuthStates).where(scope.where(mcpOAuthStates, lt(mcpOAuthStates.expiresAt, Date.now())));
  await scope.db.insert(mcpOAuthStates).values({
    stateHash, orgId: org.id, serverId: server.id, userId: ticket.userId, sealedVerifier: await box.seal(verifier, verifierPurpose(stateHash)),
    tokenEndpoint, revocationEndpoint, issuer, redirectUri, expiresAt: Date.now() + STATE_TTL_MS,
  });
  const authorize = new URL(authorizationEndpoint);
  authorize.searchParams.set("response_type", "code");
  authorize.searchParams.set("client_id", server.oauth.clientId);
  authorize.searchParams.set("redirect_uri", redirectUri);
  authorize.searchParams.set("state", state);
  authorize.searchParams.set("code_challenge", await s256(verifier));
  authorize.searchParams.set("code_challenge_method", "S256");
  authorize.searchParams.set("resource", server.url);
  if (server.oauth.scopes.length > 0) authorize.searchParams.set("scope", server.oauth.scopes.join(" "));
  return new Response(null, { status: 302, headers: { location: authorize.href, "cache-control": "no-store", "referrer-policy": "no-referrer" } });
}

/** The authorization server sends the browser back here: spend the state, exchange the code, seal the tokens. */
async function callback(env: Env, url: URL, org: Org): Promise<Response> {
  const state = url.searchParams.get("state");
  if (!state) return page(400, "Could not connect", "The authorization server sent no state.");
  const stateHash = await sha256Hex(state);
  const scope = orgScope(database(env.DB), org.id);
  // Deleting it is what spends it: a replayed callback finds nothing.
  const [pending] = await scope.db.delete(mcpOAuthStates).where(scope.where(mcpOAuthStates, eq(mcpOAuthStates.stateHash, stateHash))).returning();
  if (!pending || pending.expiresAt < Date.now()) return page(400, "Link expired", "This authorization is unknown, already used or expired. Call the MCP server again to get a new connect link.");
  // RFC 9207: an answer naming another issuer is a mix-up, whatever it carries.
  const iss = url.searchParams.get("iss");
  if (iss !== null && pending.issuer !== null && iss.replace(/\/$/, "") !== pending.issuer.replace(/\/$/, "")) {
    return page(400, "Could not connect", "The answer came from another authorization server than the one asked.");
  }
  const error = url.searchParams.get("error");
  if (error) return page(400, "Not connected", `The authorization server answered: ${error.slice(0, 64)}. Call the MCP server again to retry.`);
  const code = url.searchParams.get("code");
  if (!code) return page(400, "Could not connect", "The authorization server sent no code.");

  const server = await oauthServer(env, org.id, pending.serverId);
  if (!server) return page(404, "Server not found", "The MCP server is no longer registered for OAuth.");
  const box = secretBox(database(env.DB), await masterKey(env.MASTER_KEY), org.id);
  const verifier = await box.open(pending.sealedVerifier, verifierPurpose(stateHash));
  try {
    const tokens = await requestTokens(pending.tokenEndpoint, server.oauth, server.url, {
      grant_type: "authorization_code", code, redirect_uri: pending.redirectUri, code_verifier: verifier,
    }, allowPrivate(env));
    await storeTokens(env, { orgId: org.id, serverId: server.id, userId: pending.userId }, tokens, { tokenEndpoint: pending.tokenEndpoint, revocationEndpoint: pending.revocationEndpoint });
  } catch (failure) {
    if (failure instanceof GrantRefused) return page(502, "Could not connect", `The authorization server refused the code: ${failure.message}.`);
    throw failure;
  }
  return page(200, "Connected", `Your account is connected to the MCP server '${server.name}'. You can close this window.`);
}
