import { z } from "zod";
import { detectClient } from "../../../shared/clients.ts";
import type { Db } from "../../../shared/db/index.ts";
import type { Org, Principal } from "../../../shared/principal.ts";
import { resourceOfIdentifier } from "../../../shared/protected-resource.ts";
import type { AuthResult } from "../../../shared/rpc.ts";
import { loadUserRecord, type UserRecord } from "../user-record.ts";
import { authorizationServer } from "./server.ts";
import { DEFAULT_OAUTH_SETTINGS } from "./settings.ts";
import { orgOAuthEnv, type OrgOAuthEnv } from "./store.ts";

/** What the consent step encrypted into every token of the grant (authorize.ts). */
const TokenProps = z.object({ org_id: z.string(), user_id: z.string(), client_name: z.string() });

/**
 * User id → user and teams, per isolate, valid while the org's config version is unchanged:
 * a user deactivated (admin API or SCIM) or moved between teams is seen on the next request.
 */
const MAX_CACHED = 10_000;
const users = new Map<string, { version: number; record: UserRecord }>();

/**
 * An OAuth access token presented at one of the org's resources. Tokens are
 * `<user id>:<grant id>:<secret>`: the user id says whose token it is (so a token of
 * another org is named as such, like an API key), and the library checks the rest
 * against the org's KV slice (hashed lookup, expiry, audience equal to `resourceUrl`).
 */
export async function verifyAccessToken(
  db: Db,
  env: OrgOAuthEnv,
  org: Org,
  configVersion: number,
  token: string,
  resourceUrl: string,
  userAgent: string | null,
): Promise<AuthResult> {
  const refuse = (code: Extract<AuthResult, { ok: false }>["code"], detail: string): AuthResult => ({ ok: false, org, code, detail });
  let origin: string;
  try {
    origin = new URL(resourceUrl).origin;
  } catch {
    return refuse("invalid_request", "The protected resource is not a URL");
  }
  const resource = resourceOfIdentifier(origin, resourceUrl);
  if (!resource) return refuse("invalid_request", "Not a protected resource of this org");

  const parts = token.split(":");
  const [userId, grantId] = parts;
  if (parts.length !== 3 || parts.some((part) => part === "") || !userId || !grantId) return refuse("invalid_credential", "The access token is not valid");

  let cached = users.get(userId);
  if (cached?.version !== configVersion || cached.record.orgId !== org.id) {
    const loaded = await loadUserRecord(db, userId);
    if (!loaded) return refuse("invalid_credential", "The access token is not valid");
    if (loaded.orgId !== org.id) return refuse("credential_wrong_org", "The access token was issued by another org; use it on its own org's host");
    if (users.size >= MAX_CACHED) users.clear();
    cached = { version: configVersion, record: loaded };
    users.set(userId, cached);
  }
  const user = cached.record;

  const orgEnv = orgOAuthEnv(env, org.id);
  // Validation depends only on the issuer and the resource, not on the org's settings.
  const server = authorizationServer(origin, [resource.id], DEFAULT_OAUTH_SETTINGS);
  const validated = await server.validateToken(resource.id, token, orgEnv);
  if (!validated) {
    // Only on refusal: say whether the token is good elsewhere, or no good at all.
    const summary = await server.getOAuthApi(orgEnv).unwrapToken(token);
    if (summary?.audience !== undefined && summary.audience !== resource.id) {
      return refuse("credential_wrong_resource", `The access token was issued for ${String(summary.audience)}, not ${resource.id}`);
    }
    return refuse("invalid_credential", "The access token is not valid: it has expired, was revoked, or was never issued here");
  }
  const props = TokenProps.safeParse(validated.props);
  if (!props.success || props.data.org_id !== org.id || props.data.user_id !== user.id || validated.userId !== user.id) {
    return refuse("invalid_credential", "The access token is not valid");
  }
  if (user.status === "deactivated") return refuse("user_deactivated", "The token's user is deactivated");

  const principal: Principal = {
    kind: "oauth",
    org_id: org.id,
    org_slug: org.slug,
    credential_id: grantId,
    user_id: user.id,
    email: user.email,
    teams: user.teams,
    roles: [],
    client: detectClient(userAgent),
    oauth_client: { id: validated.clientId, name: props.data.client_name },
  };
  return { ok: true, org, principal, configVersion, fresh_until: validated.expiresAt * 1000 };
}
