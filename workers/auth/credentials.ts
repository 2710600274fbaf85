import { eq } from "drizzle-orm";
import { detectClient } from "../../shared/clients.ts";
import { sha256Hex, timingSafeEqualText } from "../../shared/crypto.ts";
import { schema, type Db } from "../../shared/db/index.ts";
import type { Org, Principal, Role } from "../../shared/principal.ts";
import type { AuthResult } from "../../shared/rpc.ts";
import { parseToken, type TokenKind } from "../../shared/tokens.ts";
import { loadUserRecord } from "./user-record.ts";

type IdentityTokenKind = Exclude<TokenKind, "scim_token">;

/** Everything needed to verify a credential and build its principal, loaded in one go. */
interface CredentialRecord {
  kind: IdentityTokenKind;
  id: string;
  orgId: string;
  secretHash: string;
  expiresAt: number | null;
  revokedAt: number | null;
  role: Role | null;
  user: { id: string; email: string; status: "active" | "deactivated" } | null;
  teams: { id: string; name: string }[];
}

/**
 * Credential id → record, per isolate, valid while the org's config version is unchanged
 * (every admin write bumps it). Steady state: no D1 read, one hash and one constant-time
 * comparison per request.
 */
const MAX_CACHED = 10_000;
const cache = new Map<string, { version: number; record: CredentialRecord }>();

/**
 * Looks the credential up by id across orgs on purpose: that is how a key of org A used
 * on org B's host is told apart from a bad key, so the refusal and its event can say so.
 * The row is only ever used for the org it belongs to.
 */
async function loadCredential(db: Db, kind: IdentityTokenKind, id: string): Promise<CredentialRecord | null> {
  const row =
    kind === "api_key"
      ? await db.query.apiKeys.findFirst({ where: eq(schema.apiKeys.id, id) })
      : await db.query.adminTokens.findFirst({ where: eq(schema.adminTokens.id, id) });
  if (!row) return null;

  const userId = "userId" in row ? row.userId : null;
  const user = userId ? await loadUserRecord(db, userId) : null;

  return {
    kind,
    id: row.id,
    orgId: row.orgId,
    secretHash: row.secretHash,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    role: "role" in row ? row.role : null,
    user: user ? { id: user.id, email: user.email, status: user.status } : null,
    teams: user?.teams ?? [],
  };
}

export async function verifyCredential(
  db: Db,
  org: Org,
  configVersion: number,
  token: string,
  userAgent: string | null,
): Promise<AuthResult> {
  const refuse = (code: Extract<AuthResult, { ok: false }>["code"], detail: string): AuthResult => ({ ok: false, org, code, detail });

  const parsed = parseToken(token);
  if (!parsed) return refuse("invalid_credential", "The credential is not an Airlock API key or admin token");
  // A SCIM token only provisions, at /scim/v2 (workers/auth/scim); it is nobody's identity.
  if (parsed.kind === "scim_token") return refuse("invalid_credential", "A SCIM token is only valid at /scim/v2");

  const cacheKey = `${parsed.kind}:${parsed.id}`;
  let record = cache.get(cacheKey);
  if (record?.version !== configVersion || record.record.orgId !== org.id) {
    const loaded = await loadCredential(db, parsed.kind, parsed.id);
    if (!loaded) return refuse("invalid_credential", "The credential is not valid");
    if (loaded.orgId !== org.id) return refuse("credential_wrong_org", "The credential was issued by another org; use it on its own org's host");
    if (cache.size >= MAX_CACHED) cache.clear();
    record = { version: configVersion, record: loaded };
    cache.set(cacheKey, record);
  }
  const credential = record.record;

  if (!timingSafeEqualText(await sha256Hex(token), credential.secretHash)) {
    return refuse("invalid_credential", "The credential is not valid");
  }
  if (credential.revokedAt !== null) return refuse("credential_revoked", "The credential has been revoked");
  if (credential.expiresAt !== null && credential.expiresAt <= Date.now()) {
    return refuse("credential_expired", "The credential has expired");
  }
  if (credential.user?.status === "deactivated") {
    return refuse("user_deactivated", "The credential's user is deactivated");
  }

  const principal: Principal = {
    kind: credential.kind,
    org_id: org.id,
    org_slug: org.slug,
    credential_id: credential.id,
    user_id: credential.user?.id ?? null,
    email: credential.user?.email ?? null,
    teams: credential.teams,
    roles: credential.role ? [credential.role] : [],
    client: detectClient(userAgent),
  };
  return { ok: true, org, principal, configVersion, ...(credential.expiresAt !== null ? { fresh_until: credential.expiresAt } : {}) };
}

export async function verifyOperator(expected: string | undefined, token: string, userAgent: string | null): Promise<AuthResult> {
  const refuse: AuthResult = { ok: false, org: null, code: "invalid_credential", detail: "The operator credential is not valid" };
  if (!expected) return { ok: false, org: null, code: "upstream_unavailable", detail: "The operator API is not configured (OPERATOR_TOKEN secret missing)" };
  // Compare digests so neither the length nor a prefix of the secret leaks through timing.
  const [got, want] = await Promise.all([sha256Hex(token), sha256Hex(expected)]);
  if (!timingSafeEqualText(got, want)) return refuse;
  return {
    ok: true,
    org: null,
    principal: {
      kind: "operator", org_id: null, org_slug: null, credential_id: null, user_id: null, email: null,
      teams: [], roles: [], client: detectClient(userAgent),
    },
    configVersion: 0,
  };
}
