import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database, orgScope, schema } from "../../../shared/db/index.ts";
import type { Env } from "../env.ts";
import type { IdpConfig } from "./config.ts";
import { SsoError } from "./oidc.ts";
import { provisionUser, teamNameOfGroup } from "./users.ts";

const db = database((env as unknown as Env).DB);
const now = Date.now();

async function seedOrg() {
  const id = `org_${crypto.randomUUID().slice(0, 8)}`;
  await db.insert(schema.orgs).values({ id, slug: id.replace("_", "-"), name: "Acme", createdAt: now });
  return orgScope(db, id);
}

const idp = (overrides: Partial<IdpConfig> = {}): IdpConfig => ({
  issuer: "https://idp.test", clientId: "c", clientSecret: null, scopes: ["openid"],
  claims: { email: "email", name: "name", groups: "groups" },
  groupTeams: { "00g-eng": "engineering" }, autoCreateTeams: true, enabled: true, ...overrides,
});

const identity = (groups: string[], overrides = {}) => ({ subject: "sub-1", email: "ada@acme.test", name: "Ada", groups, ...overrides });
const teamNames = (teams: { name: string }[]) => teams.map((t) => t.name);

describe("provisioning a user at sign-in", () => {
  it("creates the user, maps and auto-creates teams, and syncs them on the next sign-in", async () => {
    const scope = await seedOrg();
    const first = await provisionUser(scope, identity(["00g-eng", "Data Platform"]), idp());
    expect(first.changed).toBe(true);
    expect(first.user).toMatchObject({ email: "ada@acme.test", idpSubject: "sub-1", status: "active" });
    expect(teamNames(first.teams)).toEqual(["data-platform", "engineering"]);

    const same = await provisionUser(scope, identity(["00g-eng", "Data Platform"]), idp());
    expect(same.changed).toBe(false);

    // A team an admin made by hand is not the IdP's to take away.
    await db.insert(schema.teams).values({ id: `${scope.orgId}_oncall`, orgId: scope.orgId, name: "on-call", createdAt: now, updatedAt: now });
    await db.insert(schema.teamMemberships).values({ orgId: scope.orgId, teamId: `${scope.orgId}_oncall`, userId: first.user.id, createdAt: now });
    const left = await provisionUser(scope, identity(["00g-eng"]), idp());
    expect(left.changed).toBe(true);
    expect(teamNames(left.teams)).toEqual(["engineering", "on-call"]);
  });

  it("ignores unmapped groups without auto_create_teams", async () => {
    const scope = await seedOrg();
    const result = await provisionUser(scope, identity(["00g-eng", "Contractors"]), idp({ autoCreateTeams: false }));
    expect(teamNames(result.teams)).toEqual(["engineering"]);
    expect(await db.query.teams.findFirst({ where: scope.where(schema.teams, eq(schema.teams.name, "contractors")) })).toBeUndefined();
  });

  it("links an existing user by email, then follows the subject when the email changes", async () => {
    const scope = await seedOrg();
    await db.insert(schema.users).values({ id: `${scope.orgId}_u`, orgId: scope.orgId, email: "ada@acme.test", createdAt: now, updatedAt: now });
    const linked = await provisionUser(scope, identity([]), idp());
    expect(linked.user.id).toBe(`${scope.orgId}_u`);
    const renamed = await provisionUser(scope, identity([], { email: "ada.l@acme.test" }), idp());
    expect(renamed.user).toMatchObject({ id: `${scope.orgId}_u`, email: "ada.l@acme.test" });
  });

  it("refuses a deactivated user and an email bound to another IdP subject", async () => {
    const scope = await seedOrg();
    await db.insert(schema.users).values({ id: `${scope.orgId}_u`, orgId: scope.orgId, email: "ada@acme.test", status: "deactivated", createdAt: now, updatedAt: now });
    await expect(provisionUser(scope, identity([]), idp())).rejects.toMatchObject({ reason: "user_deactivated" });

    await db.update(schema.users).set({ status: "active", idpSubject: "someone-else" }).where(eq(schema.users.id, `${scope.orgId}_u`));
    const refused = provisionUser(scope, identity([]), idp());
    await expect(refused).rejects.toBeInstanceOf(SsoError);
    await expect(refused).rejects.toMatchObject({ reason: "sso_subject_conflict" });
  });

  it.each([
    ["Data Platform", "data-platform"],
    ["eng_staff", "eng-staff"],
    ["6f1c2c0e-8b1d-4c8a-9f3e-2a7b5d9c1e40", "6f1c2c0e-8b1d-4c8a-9f3e-2a7b5d9c1e40"],
    ["---", null],
    ["Équipe Sûreté", "equipe-surete"],
  ])("group %j becomes team %j", (group, team) => {
    expect(teamNameOfGroup(group)).toBe(team);
  });
});
