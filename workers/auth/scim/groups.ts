import { count, eq, inArray, like, ne, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { Hono } from "hono";
import { ulid } from "../../../shared/ids.ts";
import { chunk, schema, type OrgScope } from "../../../shared/db/index.ts";
import { deleteTeamRules } from "../limits/cleanup.ts";
import { coerceResource } from "./coerce.ts";
import { badRequest, notFound, ScimError } from "./errors.ts";
import { compileFilter, parseFilter, requiredEqualities, resourceScope, type Filter } from "./filter.ts";
import { applyPatch, PatchRequest } from "./patch.ts";
import {
  checkIfMatch, isUniqueViolation, listQuery, listResponse, notModified, parseBody, project, readJson, resourceResponse, searchQuery, withMeta,
  type ListQuery, type Resource, type ScimContext, type ScimEnv,
} from "./resource.ts";
import { GROUP, GROUP_SCHEMA, resolvePath } from "./schema.ts";
import { resourceBody } from "./users.ts";

const { teams, teamMemberships, users } = schema;
type TeamRow = typeof teams.$inferSelect;
type MemberRef = { value: string; $ref: string; display: string; type: "User" };

/** Ids per `IN (…)` list, and membership rows (4 columns) per insert, under D1's 100 parameters. */
const IDS_PER_QUERY = 90;
const MEMBERSHIPS_PER_INSERT = 24;
const MAX_SLUG = 63;

/**
 * A team name from a group's displayName: lower-case ASCII letters and digits, runs of
 * anything else as one `-`, at most 63 characters ("Data Platform (EU)" → "data-platform-eu").
 */
export function slugOf(displayName: string): string {
  const slug = displayName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, MAX_SLUG)
    .replace(/^-+|-+$/g, "");
  return slug || "team";
}

/** `slugOf(displayName)`, or with `-2`, `-3`… when another team of the org has that name. */
async function freeSlug(scope: OrgScope, displayName: string, selfId: string | null): Promise<string> {
  const base = slugOf(displayName);
  // Every candidate starts with these characters (a suffix is at most 11 of the 63).
  const stem = base.slice(0, MAX_SLUG - 11);
  const rows = await scope.db
    .select({ name: teams.name })
    .from(teams)
    .where(scope.where(teams, like(teams.name, `${stem}%`), selfId ? ne(teams.id, selfId) : undefined));
  const taken = new Set(rows.map((r) => r.name));
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? "" : `-${n}`;
    const candidate = n === 1 ? base : `${base.slice(0, MAX_SLUG - suffix.length).replace(/-+$/, "")}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Members of each team, as the Group's `members`; `"all"` loads the org's in one query. */
async function membersOf(scope: OrgScope, baseUrl: string, teamIds: string[] | "all"): Promise<Map<string, MemberRef[]>> {
  const select = (condition?: SQL) =>
    scope.db
      .select({ teamId: teamMemberships.teamId, id: users.id, email: users.email })
      .from(teamMemberships)
      .innerJoin(users, eq(users.id, teamMemberships.userId))
      .where(scope.where(teamMemberships, condition))
      .orderBy(users.id);
  const rows =
    teamIds === "all"
      ? await select()
      : (await Promise.all(chunk(teamIds, IDS_PER_QUERY).map((ids) => select(inArray(teamMemberships.teamId, ids))))).flat();
  const byTeam = new Map<string, MemberRef[]>();
  for (const row of rows) {
    const ref: MemberRef = { value: row.id, $ref: `${baseUrl}/Users/${row.id}`, display: row.email, type: "User" };
    const refs = byTeam.get(row.teamId);
    if (refs) refs.push(ref);
    else byTeam.set(row.teamId, [ref]);
  }
  return byTeam;
}

/** A team made in the admin API has no displayName: its name stands in. */
const displayNameOf = (row: TeamRow) => row.displayName ?? row.name;

function toResource(row: TeamRow, members: MemberRef[] = [], baseUrl: string): Promise<Resource> {
  const resource: Resource = {
    schemas: [GROUP_SCHEMA],
    id: row.id,
    ...(row.externalId !== null ? { externalId: row.externalId } : {}),
    displayName: displayNameOf(row),
    members,
  };
  return withMeta(GROUP, baseUrl, resource, row.createdAt, row.updatedAt);
}

async function loadOne(c: ScimContext, id: string): Promise<{ row: TeamRow; resource: Resource; memberIds: string[] }> {
  const scope = c.var.scope;
  const row = await scope.db.query.teams.findFirst({ where: scope.where(teams, eq(teams.id, id)) });
  if (!row) throw notFound(`No group ${id} in this org`);
  const members = (await membersOf(scope, c.var.baseUrl, [row.id])).get(row.id) ?? [];
  return { row, resource: await toResource(row, members, c.var.baseUrl), memberIds: members.map((m) => m.value) };
}

const sameName = (displayName: string) => sql`lower(coalesce(${teams.displayName}, ${teams.name})) = lower(${displayName})`;

/** Entra requires displayName to be unique, and Airlock's policies name teams. */
async function assertDisplayNameFree(scope: OrgScope, displayName: string, selfId: string | null) {
  const clash = await scope.db.query.teams.findFirst({
    where: scope.where(teams, sameName(displayName), selfId ? ne(teams.id, selfId) : undefined),
    columns: { id: true },
  });
  if (clash) throw new ScimError(409, `A group named ${displayName} already exists (${clash.id})`, "uniqueness");
}

/** What a writable Group sets; with `keepOmitted` (PUT), omitted members and externalId stay as they are. */
function fieldsOf(writable: Record<string, unknown>, previous: { row: TeamRow; memberIds: string[] } | null, keepOmitted: boolean) {
  const displayName = typeof writable.displayName === "string" ? writable.displayName.trim() : "";
  if (!displayName || displayName.length > 200) throw badRequest("invalidValue", "displayName is required (1–200 characters)");
  const keep = keepOmitted && previous !== null;
  const members = writable.members as Record<string, unknown>[] | undefined;
  if (members?.some((m) => typeof m.type === "string" && m.type.toLowerCase() === "group")) {
    throw badRequest("invalidValue", "Groups cannot contain groups here; Airlock teams hold users");
  }
  if (members?.some((m) => typeof m.value !== "string")) throw badRequest("invalidValue", "Each member needs a value: the id of a User");
  return {
    displayName,
    externalId: (writable.externalId as string | undefined) ?? (keep ? previous.row.externalId : null),
    memberIds:
      members === undefined && keep ? previous.memberIds : [...new Set((members ?? []).map((m) => m.value as string))],
  };
}

/** Every member must be a user of this org; a user of another org is as unknown as a typo. */
async function assertUsersExist(scope: OrgScope, ids: string[]) {
  const found = new Set<string>();
  for (const part of chunk(ids, IDS_PER_QUERY)) {
    const rows = await scope.db.select({ id: users.id }).from(users).where(scope.where(users, inArray(users.id, part)));
    for (const row of rows) found.add(row.id);
  }
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw badRequest("invalidValue", `No user ${missing.slice(0, 5).join(", ")} in this org`);
}

/**
 * Creates or updates the team and its memberships in one D1 batch (atomic). A rename
 * renames the team's slug too; two creates racing for one slug retry with the next.
 */
async function save(c: ScimContext, fields: ReturnType<typeof fieldsOf>, previous: { row: TeamRow; memberIds: string[] } | null): Promise<string> {
  const scope = c.var.scope;
  const renamed = previous ? displayNameOf(previous.row) !== fields.displayName : true;
  if (renamed) await assertDisplayNameFree(scope, fields.displayName, previous?.row.id ?? null);
  const before = new Set(previous?.memberIds ?? []);
  const after = new Set(fields.memberIds);
  const added = fields.memberIds.filter((id) => !before.has(id));
  const removed = [...before].filter((id) => !after.has(id));
  await assertUsersExist(scope, added);

  const id = previous?.row.id ?? ulid();
  for (let attempt = 1; ; attempt++) {
    const now = Date.now();
    const keepSlug = previous && (!renamed || slugOf(fields.displayName) === previous.row.name);
    const name = keepSlug ? previous.row.name : await freeSlug(scope, fields.displayName, previous?.row.id ?? null);
    const team = { name, displayName: fields.displayName, externalId: fields.externalId, updatedAt: now };
    const statements: BatchItem<"sqlite">[] = [
      previous
        ? scope.db.update(teams).set(team).where(scope.where(teams, eq(teams.id, id)))
        : scope.db.insert(teams).values({ id, orgId: scope.orgId, ...team, createdAt: now }),
      ...chunk(removed, IDS_PER_QUERY).map((ids) =>
        scope.db.delete(teamMemberships).where(scope.where(teamMemberships, eq(teamMemberships.teamId, id), inArray(teamMemberships.userId, ids))),
      ),
      ...chunk(added, MEMBERSHIPS_PER_INSERT).map((ids) =>
        scope.db
          .insert(teamMemberships)
          .values(ids.map((userId) => ({ orgId: scope.orgId, teamId: id, userId, createdAt: now })))
          .onConflictDoNothing(),
      ),
    ];
    try {
      await scope.db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
      return id;
    } catch (error) {
      if (!isUniqueViolation(error) || attempt === 3) throw error;
    }
  }
}

/** Like Users: SQL narrows on an `eq` of id, externalId or displayName; the filter decides in memory. */
function narrowing(filter: Filter): SQL | undefined {
  for (const { attrPath, value } of requiredEqualities(filter)) {
    if (typeof value !== "string") continue;
    const resolved = resolvePath(GROUP, attrPath);
    if (!resolved?.attribute || resolved.sub) continue;
    if (resolved.attribute.name === "id") return eq(teams.id, value);
    if (resolved.attribute.name === "externalId") return eq(teams.externalId, value);
    if (resolved.attribute.name === "displayName") return sameName(value);
  }
  return undefined;
}

async function list(c: ScimContext, query: ListQuery): Promise<Response> {
  const { scope, baseUrl } = c.var;
  const { startIndex, count: size } = query;
  let page: Resource[];
  let total: number;
  if (query.filter === undefined) {
    const [counted, rows] = await Promise.all([
      scope.db.select({ n: count() }).from(teams).where(scope.where(teams)),
      scope.db.select().from(teams).where(scope.where(teams)).orderBy(teams.id).limit(size).offset(startIndex - 1),
    ]);
    const members = await membersOf(scope, baseUrl, rows.map((r) => r.id));
    page = await Promise.all(rows.map((row) => toResource(row, members.get(row.id), baseUrl)));
    total = counted[0]!.n;
  } else {
    const filter = parseFilter(query.filter);
    const matches = compileFilter(filter, resourceScope(GROUP));
    const narrowed = narrowing(filter);
    const rows = await scope.db.select().from(teams).where(scope.where(teams, narrowed)).orderBy(teams.id);
    const members = await membersOf(scope, baseUrl, narrowed ? rows.map((r) => r.id) : "all");
    const resources = await Promise.all(rows.map((row) => toResource(row, members.get(row.id), baseUrl)));
    const matched = resources.filter(matches);
    total = matched.length;
    page = matched.slice(startIndex - 1, startIndex - 1 + size);
  }
  return listResponse(page.map((r) => project(GROUP, r, query)), total, startIndex);
}

export const groupRoutes = new Hono<ScimEnv>();

groupRoutes.get("/", (c) => list(c, listQuery(c)));
groupRoutes.post("/.search", async (c) => list(c, searchQuery(await readJson(c))));

groupRoutes.post("/", async (c) => {
  const body = parseBody(resourceBody(GROUP_SCHEMA), await readJson(c));
  const id = await save(c, fieldsOf(coerceResource(GROUP, body), null, false), null);
  return resourceResponse((await loadOne(c, id)).resource, 201);
});

groupRoutes.get("/:id", async (c) => {
  const { resource } = await loadOne(c, c.req.param("id"));
  if (notModified(c, resource)) return c.body(null, 304);
  return resourceResponse(resource, 200, project(GROUP, resource, listQuery(c)));
});

groupRoutes.put("/:id", async (c) => {
  const previous = await loadOne(c, c.req.param("id"));
  checkIfMatch(c, previous.resource);
  const body = parseBody(resourceBody(GROUP_SCHEMA), await readJson(c));
  await save(c, fieldsOf(coerceResource(GROUP, body), previous, true), previous);
  return resourceResponse((await loadOne(c, previous.row.id)).resource);
});

groupRoutes.patch("/:id", async (c) => {
  const previous = await loadOne(c, c.req.param("id"));
  checkIfMatch(c, previous.resource);
  const { Operations } = parseBody(PatchRequest, await readJson(c));
  const patched = applyPatch(GROUP, previous.resource, Operations);
  await save(c, fieldsOf(coerceResource(GROUP, patched), previous, false), previous);
  const { resource } = await loadOne(c, previous.row.id);
  return resourceResponse(resource, 200, project(GROUP, resource, listQuery(c)));
});

groupRoutes.delete("/:id", async (c) => {
  const scope = c.var.scope;
  const { row, resource } = await loadOne(c, c.req.param("id"));
  checkIfMatch(c, resource);
  // One batch: the team, its memberships and its limit rules go together or not at all.
  await scope.db.batch([
    scope.db.delete(teamMemberships).where(scope.where(teamMemberships, eq(teamMemberships.teamId, row.id))),
    deleteTeamRules(scope, row.id),
    scope.db.delete(teams).where(scope.where(teams, eq(teams.id, row.id))),
  ]);
  return c.body(null, 204);
});
