import { and, count, eq, gt, inArray } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { teamRoutes } from "../../../shared/api/teams.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { deleteTeamRules } from "../limits/cleanup.ts";
import { scopeOf, type AuthApiApp } from "./app.ts";
import { findUser } from "./users.ts";

const { teams, teamMemberships, users } = schema;
type TeamRow = typeof teams.$inferSelect;

async function memberCounts(scope: OrgScope, teamIds: string[]) {
  if (teamIds.length === 0) return new Map<string, number>();
  const rows = await scope.db
    .select({ teamId: teamMemberships.teamId, n: count() })
    .from(teamMemberships)
    .where(scope.where(teamMemberships, inArray(teamMemberships.teamId, teamIds)))
    .groupBy(teamMemberships.teamId);
  return new Map(rows.map((r) => [r.teamId, r.n]));
}

const serialize = (row: TeamRow, memberCount = 0) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  member_count: memberCount,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

async function findTeam(scope: OrgScope, id: string): Promise<TeamRow> {
  const row = await scope.db.query.teams.findFirst({ where: scope.where(teams, eq(teams.id, id)) });
  if (!row) throw new ProblemError("not_found", `No team ${id} in this org`);
  return row;
}

async function assertNameFree(scope: OrgScope, name: string) {
  const clash = await scope.db.query.teams.findFirst({ where: scope.where(teams, eq(teams.name, name)) });
  if (clash) throw new ProblemError("conflict", `A team named ${name} already exists (${clash.id})`);
}

async function serializeOne(scope: OrgScope, row: TeamRow) {
  return serialize(row, (await memberCounts(scope, [row.id])).get(row.id));
}

export function registerTeams(app: AuthApiApp) {
  app.openapi(teamRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db
      .select()
      .from(teams)
      .where(scope.where(teams, after ? gt(teams.id, after) : undefined))
      .orderBy(teams.id)
      .limit(limit + 1);
    const counts = await memberCounts(scope, rows.map((r) => r.id));
    return c.json(toPage(rows, limit, (r) => serialize(r, counts.get(r.id))), 200);
  });

  app.openapi(teamRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    await assertNameFree(scope, body.name);
    const now = Date.now();
    const [row] = await scope.db
      .insert(teams)
      .values({ id: ulid(), orgId: scope.orgId, name: body.name, description: body.description ?? null, createdAt: now, updatedAt: now })
      .returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(teamRoutes.get, async (c) => {
    const scope = scopeOf(c);
    return c.json(await serializeOne(scope, await findTeam(scope, c.req.valid("param").id)), 200);
  });

  app.openapi(teamRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const current = await findTeam(scope, id);
    if (body.name !== undefined && body.name !== current.name) await assertNameFree(scope, body.name);
    const [row] = await scope.db
      .update(teams)
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        updatedAt: Date.now(),
      })
      .where(scope.where(teams, eq(teams.id, id)))
      .returning();
    return c.json(await serializeOne(scope, row!), 200);
  });

  app.openapi(teamRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findTeam(scope, id);
    // One batch: the team, its memberships and its limit rules go together or not at all.
    await scope.db.batch([
      scope.db.delete(teamMemberships).where(scope.where(teamMemberships, eq(teamMemberships.teamId, id))),
      deleteTeamRules(scope, id),
      scope.db.delete(teams).where(scope.where(teams, eq(teams.id, id))),
    ]);
    return c.body(null, 204);
  });

  app.openapi(teamRoutes.listMembers, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await findTeam(scope, id);
    const after = decodeCursor(cursor);
    const rows = await scope.db
      .select({ id: users.id, email: users.email, addedAt: teamMemberships.createdAt })
      .from(teamMemberships)
      .innerJoin(users, eq(users.id, teamMemberships.userId))
      .where(scope.where(teamMemberships, eq(teamMemberships.teamId, id), after ? gt(users.id, after) : undefined))
      .orderBy(users.id)
      .limit(limit + 1);
    return c.json(toPage(rows, limit, (r) => ({ user_id: r.id, email: r.email, added_at: iso(r.addedAt) })), 200);
  });

  app.openapi(teamRoutes.addMember, async (c) => {
    const scope = scopeOf(c);
    const { id, user_id } = c.req.valid("param");
    await findTeam(scope, id);
    const user = await findUser(scope, user_id);
    await scope.db
      .insert(teamMemberships)
      .values({ orgId: scope.orgId, teamId: id, userId: user_id, createdAt: Date.now() })
      .onConflictDoNothing();
    const membership = await scope.db.query.teamMemberships.findFirst({
      where: scope.where(teamMemberships, and(eq(teamMemberships.teamId, id), eq(teamMemberships.userId, user_id))),
    });
    return c.json({ user_id, email: user.email, added_at: iso(membership!.createdAt) }, 200);
  });

  app.openapi(teamRoutes.removeMember, async (c) => {
    const scope = scopeOf(c);
    const { id, user_id } = c.req.valid("param");
    const removed = await scope.db
      .delete(teamMemberships)
      .where(scope.where(teamMemberships, eq(teamMemberships.teamId, id), eq(teamMemberships.userId, user_id)))
      .returning();
    if (removed.length === 0) throw new ProblemError("not_found", `User ${user_id} is not a member of team ${id}`);
    return c.body(null, 204);
  });
}
