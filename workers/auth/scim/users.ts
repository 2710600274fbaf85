import { count, eq, inArray, ne, sql, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { ulid } from "../../../shared/ids.ts";
import { z } from "zod";
import { chunk, schema, type OrgScope } from "../../../shared/db/index.ts";
import { deleteUserRules } from "../limits/cleanup.ts";
import { coerceResource } from "./coerce.ts";
import { badRequest, notFound, ScimError } from "./errors.ts";
import { compileFilter, parseFilter, requiredEqualities, resourceScope, type Filter } from "./filter.ts";
import { applyPatch, PatchRequest } from "./patch.ts";
import {
  checkIfMatch, isUniqueViolation, listQuery, listResponse, notModified, parseBody, project, readJson, resourceResponse, searchQuery, withMeta,
  type ListQuery, type Resource, type ScimContext, type ScimEnv,
} from "./resource.ts";
import { ENTERPRISE_USER_SCHEMA, isObject, resolvePath, USER, USER_SCHEMA } from "./schema.ts";

const { users, teams, teamMemberships, apiKeys } = schema;
type UserRow = typeof users.$inferSelect;
type GroupRef = { value: string; $ref: string; display: string; type: "direct" };

const uniqueness = (email: string) => new ScimError(409, `A user with userName ${email} already exists`, "uniqueness");

/** Ids per `IN (…)` list, under D1's 100 bound parameters with room for the org id. */
const IDS_PER_QUERY = 90;

/** A POST or PUT body: the core User schema, anything else the coercion sorts out. */
export const resourceBody = (core: string) =>
  z.looseObject({
    schemas: z.array(z.string()).refine((s) => s.includes(core), `must include ${core}`),
  });

/** Teams of each user, as the User's read-only `groups`; `"all"` loads the org's in one query. */
async function groupsOf(scope: OrgScope, baseUrl: string, userIds: string[] | "all"): Promise<Map<string, GroupRef[]>> {
  const select = (condition?: SQL) =>
    scope.db
      .select({ userId: teamMemberships.userId, id: teams.id, name: teams.name, displayName: teams.displayName })
      .from(teamMemberships)
      .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
      .where(scope.where(teamMemberships, condition))
      .orderBy(teams.id);
  const rows =
    userIds === "all"
      ? await select()
      : (await Promise.all(chunk(userIds, IDS_PER_QUERY).map((ids) => select(inArray(teamMemberships.userId, ids))))).flat();
  const byUser = new Map<string, GroupRef[]>();
  for (const row of rows) {
    const ref: GroupRef = { value: row.id, $ref: `${baseUrl}/Groups/${row.id}`, display: row.displayName ?? row.name, type: "direct" };
    const refs = byUser.get(row.userId);
    if (refs) refs.push(ref);
    else byUser.set(row.userId, [ref]);
  }
  return byUser;
}

/** The SCIM User for a row: modelled columns, plus the attributes kept verbatim in `scim_attributes`. */
function toResource(row: UserRow, groups: GroupRef[] = [], baseUrl: string): Promise<Resource> {
  const kept = row.scimAttributes ?? {};
  const resource: Resource = {
    schemas: kept[ENTERPRISE_USER_SCHEMA] ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA],
    id: row.id,
    ...(row.externalId !== null ? { externalId: row.externalId } : {}),
    userName: row.email,
    // Users made in the admin API or by SSO have a name but no SCIM attributes yet.
    ...(kept.displayName === undefined && row.name ? { displayName: row.name } : {}),
    ...kept,
    active: row.status === "active",
    ...(groups.length > 0 ? { groups } : {}),
  };
  return withMeta(USER, baseUrl, resource, row.createdAt, row.updatedAt);
}

async function loadOne(c: ScimContext, id: string): Promise<{ row: UserRow; resource: Resource }> {
  const scope = c.var.scope;
  const row = await scope.db.query.users.findFirst({ where: scope.where(users, eq(users.id, id)) });
  if (!row) throw notFound(`No user ${id} in this org`);
  const groups = await groupsOf(scope, c.var.baseUrl, [row.id]);
  return { row, resource: await toResource(row, groups.get(row.id), c.var.baseUrl) };
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * The columns a writable User sets. `userName` is the email (lower-cased: Okta and Entra
 * send the email or UPN there). `users.name` is what Airlock shows: displayName, else
 * the formatted or given + family name. An omitted `active` keeps the user's status;
 * with `keepOmitted` (PUT), an omitted `externalId` is kept too rather than unlinked.
 */
function columnsOf(writable: Record<string, unknown>, previous: UserRow | null, keepOmitted: boolean) {
  const { userName, active, externalId, ...kept } = writable;
  if (typeof userName !== "string" || userName.length > 320 || !EMAIL.test(userName.trim())) {
    throw badRequest("invalidValue", "userName is required and must be the user's email address (map the IdP's email or UPN to userName)");
  }
  const name = isObject(kept.name) ? kept.name : {};
  const given = [name.givenName, name.familyName].filter((part) => typeof part === "string" && part).join(" ");
  const keep = keepOmitted && previous !== null;
  return {
    email: userName.trim().toLowerCase(),
    name: ((kept.displayName ?? name.formatted ?? given) as string) || null,
    status: active === undefined ? (previous?.status ?? "active") : active ? ("active" as const) : ("deactivated" as const),
    externalId: (externalId as string | undefined) ?? (keep ? previous.externalId : null),
    scimAttributes: Object.keys(kept).length > 0 ? kept : null,
  };
}

async function assertUserNameFree(scope: OrgScope, email: string, selfId: string | null) {
  const clash = await scope.db.query.users.findFirst({
    where: scope.where(users, eq(users.email, email), selfId ? ne(users.id, selfId) : undefined),
    columns: { id: true },
  });
  if (clash) throw uniqueness(email);
}

/** Narrows a filter with SQL on an indexed column; the whole filter is still evaluated on what comes back. */
function narrowing(filter: Filter): SQL | undefined {
  for (const { attrPath, value } of requiredEqualities(filter)) {
    if (typeof value !== "string") continue;
    const resolved = resolvePath(USER, attrPath);
    if (!resolved?.attribute || resolved.extension) continue;
    const key = resolved.sub ? `${resolved.attribute.name}.${resolved.sub.name}` : resolved.attribute.name;
    if (key === "id") return eq(users.id, value);
    if (key === "userName") return eq(users.email, value.toLowerCase());
    if (key === "externalId") return eq(users.externalId, value);
    if (key === "emails" || key === "emails.value") {
      return sql`exists (select 1 from json_each(${users.scimAttributes}, '$.emails') as e where lower(json_extract(e.value, '$.value')) = ${value.toLowerCase()})`;
    }
  }
  return undefined;
}

/**
 * GET /Users. Without a filter: one page by SQL. With one: rows narrowed by SQL when the
 * filter has an `eq` on userName, externalId, id or emails.value (what Okta and Entra
 * send), otherwise all of the org's users, then evaluated in memory, which is fine for
 * an org's directory but not for millions of rows.
 */
async function list(c: ScimContext, query: ListQuery): Promise<Response> {
  const { scope, baseUrl } = c.var;
  const { startIndex, count: size } = query;
  let page: Resource[];
  let total: number;
  if (query.filter === undefined) {
    const [counted, rows] = await Promise.all([
      scope.db.select({ n: count() }).from(users).where(scope.where(users)),
      scope.db.select().from(users).where(scope.where(users)).orderBy(users.id).limit(size).offset(startIndex - 1),
    ]);
    const groups = await groupsOf(scope, baseUrl, rows.map((r) => r.id));
    page = await Promise.all(rows.map((row) => toResource(row, groups.get(row.id), baseUrl)));
    total = counted[0]!.n;
  } else {
    const filter = parseFilter(query.filter);
    const matches = compileFilter(filter, resourceScope(USER));
    const narrowed = narrowing(filter);
    const rows = await scope.db.select().from(users).where(scope.where(users, narrowed)).orderBy(users.id);
    const groups = await groupsOf(scope, baseUrl, narrowed ? rows.map((r) => r.id) : "all");
    const resources = await Promise.all(rows.map((row) => toResource(row, groups.get(row.id), baseUrl)));
    const matched = resources.filter(matches);
    total = matched.length;
    page = matched.slice(startIndex - 1, startIndex - 1 + size);
  }
  return listResponse(page.map((r) => project(USER, r, query)), total, startIndex);
}

async function save(c: ScimContext, columns: ReturnType<typeof columnsOf>, previous: UserRow | null): Promise<UserRow> {
  const scope = c.var.scope;
  if (previous?.email !== columns.email) await assertUserNameFree(scope, columns.email, previous?.id ?? null);
  const now = Date.now();
  try {
    if (!previous) {
      const [row] = await scope.db.insert(users).values({ id: ulid(), orgId: scope.orgId, ...columns, createdAt: now, updatedAt: now }).returning();
      return row!;
    }
    const [row] = await scope.db.update(users).set({ ...columns, updatedAt: now }).where(scope.where(users, eq(users.id, previous.id))).returning();
    return row!;
  } catch (error) {
    // Two creates of one userName at once: the unique index decides, the loser hears 409.
    if (isUniqueViolation(error)) throw uniqueness(columns.email);
    throw error;
  }
}

export const userRoutes = new Hono<ScimEnv>();

userRoutes.get("/", (c) => list(c, listQuery(c)));
userRoutes.post("/.search", async (c) => list(c, searchQuery(await readJson(c))));

userRoutes.post("/", async (c) => {
  const body = parseBody(resourceBody(USER_SCHEMA), await readJson(c));
  const row = await save(c, columnsOf(coerceResource(USER, body), null, false), null);
  return resourceResponse(await toResource(row, [], c.var.baseUrl), 201);
});

userRoutes.get("/:id", async (c) => {
  const { resource } = await loadOne(c, c.req.param("id"));
  if (notModified(c, resource)) return c.body(null, 304);
  return resourceResponse(resource, 200, project(USER, resource, listQuery(c)));
});

userRoutes.put("/:id", async (c) => {
  const { row: previous, resource } = await loadOne(c, c.req.param("id"));
  checkIfMatch(c, resource);
  const body = parseBody(resourceBody(USER_SCHEMA), await readJson(c));
  await save(c, columnsOf(coerceResource(USER, body), previous, true), previous);
  return resourceResponse((await loadOne(c, previous.id)).resource);
});

userRoutes.patch("/:id", async (c) => {
  const { row: previous, resource } = await loadOne(c, c.req.param("id"));
  checkIfMatch(c, resource);
  const { Operations } = parseBody(PatchRequest, await readJson(c));
  const patched = applyPatch(USER, resource, Operations);
  await save(c, columnsOf(coerceResource(USER, patched), previous, false), previous);
  return resourceResponse((await loadOne(c, previous.id)).resource);
});

userRoutes.delete("/:id", async (c) => {
  const scope = c.var.scope;
  const { row, resource } = await loadOne(c, c.req.param("id"));
  checkIfMatch(c, resource);
  // One batch: the user, their memberships, API keys and the limit rules on both go together or not at all.
  // (Deactivation, active=false, keeps the rules: they come back with the user.)
  await scope.db.batch([
    scope.db.delete(teamMemberships).where(scope.where(teamMemberships, eq(teamMemberships.userId, row.id))),
    deleteUserRules(scope, row.id),
    scope.db.delete(apiKeys).where(scope.where(apiKeys, eq(apiKeys.userId, row.id))),
    scope.db.delete(users).where(scope.where(users, eq(users.id, row.id))),
  ]);
  return c.body(null, 204);
});
