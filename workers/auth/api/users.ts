import { eq, gt, inArray } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { userRoutes } from "../../../shared/api/users.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { deleteUserRules } from "../limits/cleanup.ts";
import { scopeOf, type AuthApiApp } from "./app.ts";

const { users, teams, teamMemberships, apiKeys } = schema;
type UserRow = typeof users.$inferSelect;

async function teamsOf(scope: OrgScope, userIds: string[]) {
  const byUser = new Map<string, { id: string; name: string }[]>();
  if (userIds.length === 0) return byUser;
  const rows = await scope.db
    .select({ userId: teamMemberships.userId, id: teams.id, name: teams.name })
    .from(teamMemberships)
    .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
    .where(scope.where(teamMemberships, inArray(teamMemberships.userId, userIds)))
    .orderBy(teams.name);
  for (const { userId, id, name } of rows) byUser.set(userId, [...(byUser.get(userId) ?? []), { id, name }]);
  return byUser;
}

const serialize = (row: UserRow, teamRefs: { id: string; name: string }[] = []) => ({
  id: row.id,
  email: row.email,
  name: row.name,
  status: row.status,
  teams: teamRefs,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

export async function findUser(scope: OrgScope, id: string): Promise<UserRow> {
  const row = await scope.db.query.users.findFirst({ where: scope.where(users, eq(users.id, id)) });
  if (!row) throw new ProblemError("not_found", `No user ${id} in this org`);
  return row;
}

async function serializeOne(scope: OrgScope, row: UserRow) {
  return serialize(row, (await teamsOf(scope, [row.id])).get(row.id));
}

export function registerUsers(app: AuthApiApp) {
  app.openapi(userRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor, email } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db
      .select()
      .from(users)
      .where(scope.where(users, after ? gt(users.id, after) : undefined, email ? eq(users.email, email.toLowerCase()) : undefined))
      .orderBy(users.id)
      .limit(limit + 1);
    const teamMap = await teamsOf(scope, rows.map((r) => r.id));
    return c.json(toPage(rows, limit, (r) => serialize(r, teamMap.get(r.id))), 200);
  });

  app.openapi(userRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    const email = body.email.toLowerCase();
    const existing = await scope.db.query.users.findFirst({ where: scope.where(users, eq(users.email, email)) });
    if (existing) throw new ProblemError("conflict", `A user with email ${email} already exists (${existing.id})`);
    const now = Date.now();
    const [row] = await scope.db
      .insert(users)
      .values({ id: ulid(), orgId: scope.orgId, email, name: body.name ?? null, status: "active", createdAt: now, updatedAt: now })
      .returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(userRoutes.get, async (c) => {
    const scope = scopeOf(c);
    return c.json(await serializeOne(scope, await findUser(scope, c.req.valid("param").id)), 200);
  });

  app.openapi(userRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    await findUser(scope, id);
    const [row] = await scope.db
      .update(users)
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.status !== undefined ? { status: body.status } : {}),
        updatedAt: Date.now(),
      })
      .where(scope.where(users, eq(users.id, id)))
      .returning();
    return c.json(await serializeOne(scope, row!), 200);
  });

  app.openapi(userRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findUser(scope, id);
    // One batch: the user, their memberships, keys and the limit rules on both go together or not at all.
    await scope.db.batch([
      scope.db.delete(teamMemberships).where(scope.where(teamMemberships, eq(teamMemberships.userId, id))),
      deleteUserRules(scope, id),
      scope.db.delete(apiKeys).where(scope.where(apiKeys, eq(apiKeys.userId, id))),
      scope.db.delete(users).where(scope.where(users, eq(users.id, id))),
    ]);
    return c.body(null, 204);
  });
}
