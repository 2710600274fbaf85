import { eq, inArray, like } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { chunk, D1_MAX_PARAMS, schema, type OrgScope } from "../../../shared/db/index.ts";
import type { IdpConfig } from "./config.ts";
import { SsoError, type IdpIdentity } from "./oidc.ts";

const { users, teams, teamMemberships } = schema;
type UserRow = typeof users.$inferSelect;

/** Teams made from an IdP group (with `auto_create_teams`) carry this, so a later sign-in knows it manages them. */
const AUTO_TEAM_PREFIX = "oidc:";
const TEAM_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A group's team name when none is mapped: `Data Platform` → `data-platform`, `Équipe` → `equipe`. */
export function teamNameOfGroup(group: string): string | null {
  const name = group.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 63).replace(/-+$/, "");
  return TEAM_NAME.test(name) ? name : null;
}

export interface Provisioned {
  user: UserRow;
  teams: { id: string; name: string }[];
  /** Whether any row changed: the org's caches must then reload (config version bump). */
  changed: boolean;
}

/**
 * Finds the user by the IdP's subject, else by email (first sign-in of a user an admin or
 * SCIM created), creates one otherwise, refuses a deactivated user, and syncs their
 * memberships of IdP-managed teams to their groups. IdP-managed teams are the mapped ones
 * (`group_teams` values) and the ones sign-in created; teams an admin manages by hand are
 * left alone.
 */
export async function provisionUser(scope: OrgScope, identity: IdpIdentity, idp: IdpConfig): Promise<Provisioned> {
  const { db } = scope;
  const now = Date.now();
  let changed = false;

  let user = await db.query.users.findFirst({ where: scope.where(users, eq(users.idpSubject, identity.subject)) });
  if (!user) {
    user = await db.query.users.findFirst({ where: scope.where(users, eq(users.email, identity.email)) });
    // One IdP identity per user: an email now held by another subject is not taken over.
    if (user?.idpSubject) throw new SsoError("sso_subject_conflict", "This email address belongs to an Airlock user bound to another identity provider account");
  }
  if (user?.status === "deactivated") throw new SsoError("user_deactivated", "Your Airlock account is deactivated; ask an admin of your org");

  if (!user) {
    [user] = await db
      .insert(users)
      .values({ id: ulid(), orgId: scope.orgId, email: identity.email, name: identity.name, status: "active", idpSubject: identity.subject, createdAt: now, updatedAt: now })
      .returning();
    changed = true;
  } else if (user.idpSubject !== identity.subject || user.email !== identity.email || (identity.name !== null && user.name !== identity.name)) {
    if (user.email !== identity.email) {
      const holder = await db.query.users.findFirst({ where: scope.where(users, eq(users.email, identity.email)) });
      if (holder) throw new SsoError("sso_email_conflict", "Another Airlock user already has this email address");
    }
    [user] = await db
      .update(users)
      .set({ idpSubject: identity.subject, email: identity.email, ...(identity.name !== null ? { name: identity.name } : {}), updatedAt: now })
      .where(scope.where(users, eq(users.id, user.id)))
      .returning();
    changed = true;
  }
  const synced = await syncTeams(scope, user!.id, identity.groups, idp);
  return { user: user!, teams: synced.teams, changed: changed || synced.changed };
}

/** Teams of this org with these names, in statements under D1's parameter limit. */
async function teamsNamed(scope: OrgScope, names: string[]) {
  const out: { id: string; name: string }[] = [];
  for (const part of chunk([...new Set(names)], D1_MAX_PARAMS - 1)) {
    out.push(...(await scope.db.select({ id: teams.id, name: teams.name }).from(teams).where(scope.where(teams, inArray(teams.name, part)))));
  }
  return out;
}

async function syncTeams(scope: OrgScope, userId: string, groups: string[], idp: IdpConfig) {
  const { db } = scope;
  const now = Date.now();
  const wanted = new Map<string, string>(); // team name → group
  for (const group of groups) {
    const name = idp.groupTeams[group] ?? (idp.autoCreateTeams ? teamNameOfGroup(group) : null);
    if (name) wanted.set(name, group);
  }

  // Create wanted teams that do not exist; a concurrent sign-in may create one first.
  const existing = new Set((await teamsNamed(scope, [...wanted.keys()])).map((team) => team.name));
  const missing = [...wanted].filter(([name]) => !existing.has(name));
  for (const part of chunk(missing, 10)) {
    await db
      .insert(teams)
      .values(part.map(([name, group]) => ({
        id: ulid(), orgId: scope.orgId, name, displayName: group,
        // Mapped teams are the admin's; only teams sign-in invents are marked as its own.
        externalId: idp.groupTeams[group] ? null : AUTO_TEAM_PREFIX + group,
        description: `Created at sign-in from IdP group ${group}`,
        createdAt: now, updatedAt: now,
      })))
      .onConflictDoNothing();
  }

  const [named, autoCreated, current] = await Promise.all([
    teamsNamed(scope, [...wanted.keys(), ...Object.values(idp.groupTeams)]),
    db.select({ id: teams.id, name: teams.name }).from(teams).where(scope.where(teams, like(teams.externalId, `${AUTO_TEAM_PREFIX}%`))),
    db
      .select({ id: teams.id, name: teams.name })
      .from(teamMemberships)
      .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
      .where(scope.where(teamMemberships, eq(teamMemberships.userId, userId))),
  ]);
  const managed = new Map([...named, ...autoCreated].map((team) => [team.id, team]));
  const currentIds = new Set(current.map((team) => team.id));
  const add = [...managed.values()].filter((team) => wanted.has(team.name) && !currentIds.has(team.id));
  const remove = current.filter((team) => managed.has(team.id) && !wanted.has(team.name));

  const writes = [
    ...chunk(add, 20).map((part) =>
      db.insert(teamMemberships).values(part.map((team) => ({ orgId: scope.orgId, teamId: team.id, userId, createdAt: now }))).onConflictDoNothing(),
    ),
    ...chunk(remove, D1_MAX_PARAMS - 3).map((part) =>
      db.delete(teamMemberships).where(scope.where(teamMemberships, eq(teamMemberships.userId, userId), inArray(teamMemberships.teamId, part.map((team) => team.id)))),
    ),
  ];
  // One batch: the memberships change together or not at all.
  if (writes.length) await db.batch(writes as [(typeof writes)[number], ...(typeof writes)[number][]]);
  const removed = new Set(remove.map((team) => team.id));
  const teamsNow = [...current.filter((team) => !removed.has(team.id)), ...add].sort((a, b) => a.name.localeCompare(b.name));
  return { teams: teamsNow, changed: missing.length > 0 || writes.length > 0 };
}
