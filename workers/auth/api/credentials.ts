import { eq, gt, isNull } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { z } from "@hono/zod-openapi";
import { adminTokenRoutes, apiKeyRoutes, type CreateAdminToken } from "../../../shared/api/credentials.ts";
import { decodeCursor, iso, isoOrNull, toPage } from "../../../shared/api/cursor.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import type { Principal } from "../../../shared/principal.ts";
import { mintToken } from "../../../shared/tokens.ts";
import { deleteKeyRules } from "../limits/cleanup.ts";
import { scopeOf, type AuthApiApp } from "./app.ts";
import { findUser } from "./users.ts";

const { apiKeys, adminTokens } = schema;

const common = (row: typeof apiKeys.$inferSelect | typeof adminTokens.$inferSelect) => ({
  id: row.id,
  name: row.name,
  hint: row.hint,
  created_at: iso(row.createdAt),
  created_by: row.createdBy,
  expires_at: isoOrNull(row.expiresAt),
  revoked_at: isoOrNull(row.revokedAt),
});
const serializeKey = (row: typeof apiKeys.$inferSelect) => ({ ...common(row), user_id: row.userId });
const serializeToken = (row: typeof adminTokens.$inferSelect) => ({ ...common(row), role: row.role });

/** Who made a credential, for the record: the admin token's id, or the operator. */
const creatorOf = (principal: Principal) => principal.credential_id ?? principal.kind;

export async function createAdminToken(scope: OrgScope, body: z.infer<typeof CreateAdminToken>, createdBy: string) {
  const minted = await mintToken("admin_token");
  const [row] = await scope.db
    .insert(adminTokens)
    .values({
      id: minted.id, orgId: scope.orgId, name: body.name, role: body.role, secretHash: minted.hash, hint: minted.hint,
      createdBy, createdAt: Date.now(), expiresAt: body.expires_at ? Date.parse(body.expires_at) : null,
    })
    .returning();
  return { ...serializeToken(row!), secret: minted.token };
}

export function registerApiKeys(app: AuthApiApp) {
  app.openapi(apiKeyRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor, user_id } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db
      .select()
      .from(apiKeys)
      .where(scope.where(apiKeys, after ? gt(apiKeys.id, after) : undefined, user_id ? eq(apiKeys.userId, user_id) : undefined))
      .orderBy(apiKeys.id)
      .limit(limit + 1);
    return c.json(toPage(rows, limit, serializeKey), 200);
  });

  app.openapi(apiKeyRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    if (body.user_id) await findUser(scope, body.user_id);
    const minted = await mintToken("api_key");
    const [row] = await scope.db
      .insert(apiKeys)
      .values({
        id: minted.id, orgId: scope.orgId, name: body.name, userId: body.user_id ?? null, secretHash: minted.hash, hint: minted.hint,
        createdBy: creatorOf(c.env.context.principal), createdAt: Date.now(),
        expiresAt: body.expires_at ? Date.parse(body.expires_at) : null,
      })
      .returning();
    return c.json({ ...serializeKey(row!), secret: minted.token }, 201);
  });

  app.openapi(apiKeyRoutes.get, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const row = await scope.db.query.apiKeys.findFirst({ where: scope.where(apiKeys, eq(apiKeys.id, id)) });
    if (!row) throw new ProblemError("not_found", `No API key ${id} in this org`);
    return c.json(serializeKey(row), 200);
  });

  app.openapi(apiKeyRoutes.revoke, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    // A revoked key's limit rules can never apply again: they go in the same batch.
    await revoke(scope, apiKeys, id, "API key", [deleteKeyRules(scope, id)]);
    return c.body(null, 204);
  });
}

export function registerAdminTokens(app: AuthApiApp) {
  app.openapi(adminTokenRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db
      .select()
      .from(adminTokens)
      .where(scope.where(adminTokens, after ? gt(adminTokens.id, after) : undefined))
      .orderBy(adminTokens.id)
      .limit(limit + 1);
    return c.json(toPage(rows, limit, serializeToken), 200);
  });

  app.openapi(adminTokenRoutes.create, async (c) => {
    const body = c.req.valid("json");
    const { principal } = c.env.context;
    if (body.role === "owner" && !principal.roles.includes("owner")) {
      throw new ProblemError("forbidden", "Only an owner may create owner tokens");
    }
    return c.json(await createAdminToken(scopeOf(c), body, creatorOf(principal)), 201);
  });

  app.openapi(adminTokenRoutes.get, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const row = await scope.db.query.adminTokens.findFirst({ where: scope.where(adminTokens, eq(adminTokens.id, id)) });
    if (!row) throw new ProblemError("not_found", `No admin token ${id} in this org`);
    return c.json(serializeToken(row), 200);
  });

  app.openapi(adminTokenRoutes.revoke, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await revoke(scope, adminTokens, id, "admin token");
    return c.body(null, 204);
  });
}

/** Revocation keeps the row (the audit trail names it) and is idempotent; `alongside` joins its atomic batch. */
async function revoke(scope: OrgScope, table: typeof apiKeys | typeof adminTokens, id: string, what: string, alongside: BatchItem<"sqlite">[] = []) {
  const exists = await scope.db.select({ id: table.id }).from(table).where(scope.where(table, eq(table.id, id)));
  if (exists.length === 0) throw new ProblemError("not_found", `No ${what} ${id} in this org`);
  await scope.db.batch([
    scope.db.update(table).set({ revokedAt: Date.now() }).where(scope.where(table, eq(table.id, id), isNull(table.revokedAt))),
    ...alongside,
  ]);
}
