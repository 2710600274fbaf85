import type { GrantSummary, OAuthHelpers } from "@cloudflare/workers-oauth-provider";
import { iso } from "../../../shared/api/cursor.ts";
import { identityRoutes } from "../../../shared/api/identity.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import type { Env } from "../env.ts";
import { SSO_CALLBACK_PATH } from "../oauth/context.ts";
import { authorizationServer, namespaceRoots } from "../oauth/server.ts";
import { DEFAULT_OAUTH_SETTINGS } from "../oauth/settings.ts";
import { orgOAuthEnv } from "../oauth/store.ts";
import { CLIENT_SECRET_PURPOSE, ClaimMapping, DEFAULT_CLAIMS, GroupTeams } from "../sso/config.ts";
import { scopeOf, type AuthApiApp } from "./app.ts";
import { findUser } from "./users.ts";

const { idpConfigs, oauthSettings } = schema;

const serializeIdp = (row: typeof idpConfigs.$inferSelect, origin: string) => ({
  issuer: row.issuer,
  client_id: row.clientId,
  client_secret_set: row.sealedClientSecret !== null,
  scopes: row.scopes,
  claims: ClaimMapping.parse({ ...DEFAULT_CLAIMS, ...row.claims }),
  group_teams: GroupTeams.parse(row.groupTeams),
  auto_create_teams: row.autoCreateTeams,
  enabled: row.enabled,
  redirect_uri: origin + SSO_CALLBACK_PATH,
  updated_at: iso(row.updatedAt),
});

/** The library's client, grant and token helpers over this org's slice of the OAuth store. */
const oauthOf = (env: Env, scope: OrgScope, origin: string): OAuthHelpers =>
  authorizationServer(origin, namespaceRoots(origin), DEFAULT_OAUTH_SETTINGS).getOAuthApi(orgOAuthEnv(env, scope.orgId));

const seconds = (value: number | undefined) => (value === undefined ? null : iso(value * 1000));

const serializeGrant = (grant: GrantSummary) => {
  const metadata = grant.metadata as { client_name?: unknown } | null;
  return {
    id: grant.id,
    client_id: grant.clientId,
    client_name: typeof metadata?.client_name === "string" ? metadata.client_name : null,
    resource: typeof grant.resource === "string" ? grant.resource : null,
    scope: grant.scope,
    created_at: iso(grant.createdAt * 1000),
    expires_at: seconds(grant.expiresAt),
  };
};

export function registerIdentity(app: AuthApiApp) {
  app.openapi(identityRoutes.getIdp, async (c) => {
    const scope = scopeOf(c);
    const row = await scope.db.query.idpConfigs.findFirst({ where: scope.where(idpConfigs) });
    if (!row) throw new ProblemError("not_found", "No identity provider is set for this org");
    return c.json(serializeIdp(row, new URL(c.req.url).origin), 200);
  });

  app.openapi(identityRoutes.putIdp, async (c) => {
    const scope = scopeOf(c);
    const env = c.env.env;
    const body = c.req.valid("json");
    try {
      assertPublicUrl(body.issuer, { allowPrivate: env.ALLOW_PRIVATE_IDP === "true" });
    } catch (error) {
      if (!(error instanceof UnsafeUrlError)) throw error;
      throw new ProblemError("validation_failed", "The issuer is not an allowed URL", [{ path: "issuer", message: error.message }]);
    }
    const current = await scope.db.query.idpConfigs.findFirst({ where: scope.where(idpConfigs) });
    const sealedClientSecret =
      body.client_secret === undefined
        ? (current?.sealedClientSecret ?? null)
        : body.client_secret === null
          ? null
          : await secretBox(scope.db, await masterKey(env.MASTER_KEY), scope.orgId).seal(body.client_secret, CLIENT_SECRET_PURPOSE);
    const values = {
      // Kept exactly as given: discovery compares it byte for byte with the IdP's own (Auth0's ends in "/", Google's does not).
      issuer: body.issuer,
      clientId: body.client_id,
      sealedClientSecret,
      scopes: body.scopes,
      claims: body.claims,
      groupTeams: body.group_teams,
      autoCreateTeams: body.auto_create_teams,
      enabled: body.enabled,
      updatedAt: Date.now(),
    };
    const [row] = await scope.db
      .insert(idpConfigs)
      .values({ orgId: scope.orgId, ...values })
      .onConflictDoUpdate({ target: idpConfigs.orgId, set: values })
      .returning();
    return c.json(serializeIdp(row!, new URL(c.req.url).origin), 200);
  });

  app.openapi(identityRoutes.deleteIdp, async (c) => {
    const scope = scopeOf(c);
    const deleted = await scope.db.delete(idpConfigs).where(scope.where(idpConfigs)).returning();
    if (deleted.length === 0) throw new ProblemError("not_found", "No identity provider is set for this org");
    return c.body(null, 204);
  });

  app.openapi(identityRoutes.getSettings, async (c) => {
    const scope = scopeOf(c);
    const row = await scope.db.query.oauthSettings.findFirst({ where: scope.where(oauthSettings) });
    const settings = row ?? DEFAULT_OAUTH_SETTINGS;
    return c.json({
      dynamic_registration: settings.dynamicRegistration,
      client_metadata_documents: settings.clientMetadataDocuments,
      access_token_ttl_seconds: settings.accessTokenTtlSeconds,
    }, 200);
  });

  app.openapi(identityRoutes.putSettings, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    const values = {
      dynamicRegistration: body.dynamic_registration,
      clientMetadataDocuments: body.client_metadata_documents,
      accessTokenTtlSeconds: body.access_token_ttl_seconds,
      updatedAt: Date.now(),
    };
    await scope.db.insert(oauthSettings).values({ orgId: scope.orgId, ...values }).onConflictDoUpdate({ target: oauthSettings.orgId, set: values });
    return c.json(body, 200);
  });

  app.openapi(identityRoutes.listClients, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const oauth = oauthOf(c.env.env, scopeOf(c), new URL(c.req.url).origin);
    const page = await oauth.listClients({ limit, ...(cursor ? { cursor } : {}) });
    return c.json({
      data: page.items.map((client) => ({
        client_id: client.clientId,
        client_name: client.clientName ?? null,
        client_uri: client.clientUri ?? null,
        redirect_uris: client.redirectUris,
        token_endpoint_auth_method: client.tokenEndpointAuthMethod,
        registered_at: seconds(client.registrationDate),
      })),
      next_cursor: page.cursor ?? null,
    }, 200);
  });

  app.openapi(identityRoutes.deleteClient, async (c) => {
    const { id } = c.req.valid("param");
    const oauth = oauthOf(c.env.env, scopeOf(c), new URL(c.req.url).origin);
    // A metadata-document client is not stored: deleting it revokes its grants.
    if (!id.startsWith("https://") && !(await oauth.lookupClient(id))) throw new ProblemError("not_found", `No OAuth client ${id} in this org`);
    await oauth.deleteClient(id);
    return c.body(null, 204);
  });

  app.openapi(identityRoutes.listGrants, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await findUser(scope, id);
    const page = await oauthOf(c.env.env, scope, new URL(c.req.url).origin).listUserGrants(id, { limit, ...(cursor ? { cursor } : {}) });
    return c.json({ data: page.items.map(serializeGrant), next_cursor: page.cursor ?? null }, 200);
  });

  app.openapi(identityRoutes.revokeGrant, async (c) => {
    const scope = scopeOf(c);
    const { id, grant } = c.req.valid("param");
    await findUser(scope, id);
    const oauth = oauthOf(c.env.env, scope, new URL(c.req.url).origin);
    const grants = await listAllGrants(oauth, id);
    if (!grants.some((item) => item.id === grant)) throw new ProblemError("not_found", `User ${id} has no grant ${grant}`);
    await oauth.revokeGrant(grant, id);
    return c.body(null, 204);
  });
}

async function listAllGrants(oauth: OAuthHelpers, userId: string): Promise<GrantSummary[]> {
  const out: GrantSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await oauth.listUserGrants(userId, { limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}
