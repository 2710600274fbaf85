import { eq, gt } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { mcpServerRoutes } from "../../../shared/api/mcp-servers.ts";
import { database, schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import type { Env } from "../env.ts";
import { scanAtRegistration } from "../registration-scan.ts";
import { scopeOf, type McpApiApp } from "./app.ts";
import { assertMcpNameFree } from "./names.ts";
import { forgetOAuth, forgetTokens, oauthRowsOf, oauthValues, rebinds, serializeOAuth, upsertOAuth } from "../upstream-oauth/admin-config.ts";
import type { OAuthRow } from "../upstream-oauth/server-config.ts";

const { mcpServers } = schema;
export type ServerRow = typeof mcpServers.$inferSelect;

export const secretPurpose = (serverId: string) => `mcp-server:${serverId}`;
const hintOf = (value: string) => (value.length > 8 ? `…${value.slice(-4)}` : "…");

/** Never the sealed secrets: the static secret's header and hint, the OAuth client's id and hint. */
function serialize(row: ServerRow, oauth?: OAuthRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    url: row.url,
    transport: row.transport,
    auth_mode: row.authMode,
    secret: row.sealedSecret && row.secretHeader ? { header: row.secretHeader, hint: row.secretHint ?? "…" } : null,
    oauth: serializeOAuth(oauth),
    owner_team_id: row.ownerTeamId,
    visible_team_ids: row.visibleTeamIds,
    tags: row.tags,
    tool_tags: row.toolTags,
    enabled: row.enabled,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

export async function findServer(scope: OrgScope, id: string): Promise<ServerRow> {
  const row = await scope.db.query.mcpServers.findFirst({ where: scope.where(mcpServers, eq(mcpServers.id, id)) });
  if (!row) throw new ProblemError("not_found", `No MCP server ${id} in this org`);
  return row;
}

/** An upstream Airlock may not call is refused when registered, not discovered at the first request. */
function checkUrl(env: Env, url: string) {
  try {
    assertPublicUrl(url, { allowPrivate: env.ALLOW_PRIVATE_UPSTREAMS === "true" });
  } catch (error) {
    if (!(error instanceof UnsafeUrlError)) throw error;
    throw new ProblemError("validation_failed", `The server URL is not allowed: it ${error.message}`, [{ path: "url", message: error.message }]);
  }
}

function checkAuth(authMode: ServerRow["authMode"], hasSecret: boolean, hasOAuth: boolean) {
  if (authMode === "static" && !hasSecret) {
    throw new ProblemError("validation_failed", "auth_mode static needs a secret", [{ path: "secret", message: "required when auth_mode is static" }]);
  }
  if (authMode === "oauth" && !hasOAuth) {
    throw new ProblemError("validation_failed", "auth_mode oauth needs an oauth client (client_id…)", [{ path: "oauth", message: "required when auth_mode is oauth" }]);
  }
}

async function seal(env: Env, scope: OrgScope, id: string, value: string) {
  const box = secretBox(database(env.DB), await masterKey(env.MASTER_KEY), scope.orgId);
  return box.seal(value, secretPurpose(id));
}

export function registerServers(app: McpApiApp) {
  app.openapi(mcpServerRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(mcpServers)
      .where(scope.where(mcpServers, after ? gt(mcpServers.id, after) : undefined))
      .orderBy(mcpServers.id).limit(limit + 1);
    const oauth = await oauthRowsOf(scope, rows.filter((r) => r.authMode === "oauth").map((r) => r.id));
    return c.json(toPage(rows, limit, (row) => serialize(row, oauth.get(row.id))), 200);
  });

  app.openapi(mcpServerRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const env = c.env.env;
    const body = c.req.valid("json");
    checkUrl(env, body.url);
    checkAuth(body.auth_mode, body.secret !== undefined, body.oauth !== undefined);
    await assertMcpNameFree(scope, body.name);
    const id = ulid();
    const now = Date.now();
    const secret = body.auth_mode === "static" && body.secret ? body.secret : null;
    // Checked and sealed before anything is written; written in one batch with the server.
    const oauth = body.auth_mode === "oauth" && body.oauth ? await oauthValues(env, scope, id, body.oauth, undefined) : undefined;
    const insert = scope.db.insert(mcpServers).values({
      id, orgId: scope.orgId, name: body.name, description: body.description ?? null, url: body.url,
      transport: body.transport, authMode: body.auth_mode,
      secretHeader: secret?.header.toLowerCase() ?? null,
      sealedSecret: secret ? await seal(env, scope, id, secret.value) : null,
      secretHint: secret ? hintOf(secret.value) : null,
      ownerTeamId: body.owner_team_id ?? null, visibleTeamIds: body.visible_team_ids, tags: body.tags,
      toolTags: body.tool_tags, enabled: body.enabled, createdAt: now, updatedAt: now,
    }).returning();
    const [row] = oauth ? (await scope.db.batch([insert, upsertOAuth(scope, oauth)]))[0] : await insert;
    return c.json({ ...serialize(row!, oauth), tool_scan: await scanAtRegistration(env, c.env.context, id, body.auth_mode) }, 201);
  });

  app.openapi(mcpServerRoutes.get, async (c) => {
    const scope = scopeOf(c);
    const row = await findServer(scope, c.req.valid("param").id);
    return c.json(serialize(row, (await oauthRowsOf(scope, [row.id])).get(row.id)), 200);
  });

  app.openapi(mcpServerRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const env = c.env.env;
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const current = await findServer(scope, id);
    if (body.url !== undefined) checkUrl(env, body.url);
    if (body.name !== undefined && body.name !== current.name) await assertMcpNameFree(scope, body.name);
    const authMode = body.auth_mode ?? current.authMode;
    const keepsSecret = body.secret === undefined ? current.sealedSecret !== null : body.secret !== null;
    const currentOAuth = (await oauthRowsOf(scope, [id])).get(id);
    checkAuth(authMode, keepsSecret, body.oauth !== undefined || currentOAuth !== undefined);
    const secretChange =
      authMode !== "static" || body.secret === null
        ? { secretHeader: null, sealedSecret: null, secretHint: null }
        : body.secret
          ? { secretHeader: body.secret.header.toLowerCase(), sealedSecret: await seal(env, scope, id, body.secret.value), secretHint: hintOf(body.secret.value) }
          : {};
    const oauth = authMode !== "oauth" ? undefined : body.oauth ? await oauthValues(env, scope, id, body.oauth, currentOAuth) : currentOAuth;
    const update = scope.db.update(mcpServers).set({
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.url !== undefined ? { url: body.url } : {}),
      ...(body.transport !== undefined ? { transport: body.transport } : {}),
      authMode,
      ...secretChange,
      ...(body.owner_team_id !== undefined ? { ownerTeamId: body.owner_team_id } : {}),
      ...(body.visible_team_ids !== undefined ? { visibleTeamIds: body.visible_team_ids } : {}),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
      ...(body.tool_tags !== undefined ? { toolTags: body.tool_tags } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      updatedAt: Date.now(),
    }).where(scope.where(mcpServers, eq(mcpServers.id, id))).returning();
    // The OAuth client and users' tokens change in the same batch as the server.
    const oauthWrites = !oauth
      ? (currentOAuth ? forgetOAuth(scope, id) : [])
      : [upsertOAuth(scope, oauth), ...(rebinds({ url: current.url, oauth: currentOAuth }, { url: body.url ?? current.url, oauth }) ? forgetTokens(scope, id) : [])];
    const [row] = (await scope.db.batch([update, ...oauthWrites]))[0];
    return c.json({ ...serialize(row!, oauth), tool_scan: await scanAtRegistration(env, c.env.context, id, authMode) }, 200);
  });

  app.openapi(mcpServerRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findServer(scope, id);
    await scope.db.batch([
      scope.db.delete(schema.mcpToolPins).where(scope.where(schema.mcpToolPins, eq(schema.mcpToolPins.serverId, id))),
      ...forgetOAuth(scope, id),
      scope.db.delete(mcpServers).where(scope.where(mcpServers, eq(mcpServers.id, id))),
    ]);
    return c.body(null, 204);
  });
}
