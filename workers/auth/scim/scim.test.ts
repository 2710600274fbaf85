import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { database, schema } from "../../../shared/db/index.ts";
import type { Org } from "../../../shared/principal.ts";
import { mintToken } from "../../../shared/tokens.ts";
import { verifyCredential } from "../credentials.ts";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";
import { slugOf } from "./groups.ts";
import { serveScim } from "./index.ts";

const testEnv = env as unknown as Env;
const db = database(testEnv.DB);
const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

interface Tenant extends Org {
  token: string;
  scim(path: string, init?: { method?: string; json?: unknown; token?: string | null; headers?: Record<string, string> }): Promise<Response>;
}

async function seedOrg(slug: string): Promise<Tenant> {
  // Storage is shared by the tests of a file: every test seeds its own org.
  const unique = crypto.randomUUID().slice(0, 8);
  const org = { id: `org_${unique}`, slug: `${slug}-${unique}`, name: slug };
  await db.insert(schema.orgs).values({ ...org, createdAt: Date.now() });
  const minted = await mintToken("scim_token");
  await db.insert(schema.scimTokens).values({ id: minted.id, orgId: org.id, secretHash: minted.hash, hint: minted.hint, createdAt: Date.now() });
  return {
    ...org,
    token: minted.token,
    scim: (path, init = {}) => {
      const headers: Record<string, string> = { ...init.headers };
      const token = init.token === undefined ? minted.token : init.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (init.json !== undefined) headers["content-type"] = "application/scim+json";
      const request = new Request(`https://${org.slug}.airlock.localhost/scim/v2${path}`, {
        method: init.method ?? "GET",
        headers,
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      });
      return serveScim(request, { requestId: "01TEST", org }, testEnv);
    },
  };
}

const body = async <T = any>(res: Response) => (await res.json()) as T;

async function expectScimError(res: Response, status: number, scimType?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/scim+json");
  const error = await body(res);
  expect(error).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: String(status), detail: expect.any(String) });
  if (scimType) expect(error.scimType).toBe(scimType);
  else expect(error).not.toHaveProperty("scimType");
  return error;
}

const newUser = (email: string, extra: Record<string, unknown> = {}) => ({ schemas: [USER_SCHEMA], userName: email, active: true, ...extra });

async function createUser(org: Tenant, email: string, extra: Record<string, unknown> = {}) {
  const res = await org.scim("/Users", { method: "POST", json: newUser(email, extra) });
  expect(res.status).toBe(201);
  return body(res);
}

describe("SCIM authentication (RFC 7644 §2)", () => {
  let acme: Tenant;
  beforeEach(async () => {
    acme = await seedOrg("acme");
  });

  it("refuses a request without a token with 401, a SCIM error and a Bearer challenge", async () => {
    const res = await acme.scim("/Users", { token: null });
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="airlock-scim"');
    await expectScimError(res, 401);
  });

  it("refuses a wrong token, another org's token, a revoked token and a non-SCIM Airlock token", async () => {
    const globex = await seedOrg("globex");
    const apiKey = await mintToken("api_key");
    for (const token of [acme.token.slice(0, -2) + "xx", globex.token, apiKey.token, "not-a-token"]) {
      const res = await acme.scim("/Users", { token });
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
      await expectScimError(res, 401);
    }
    await db.update(schema.scimTokens).set({ revokedAt: Date.now() }).where(eq(schema.scimTokens.orgId, acme.id));
    await expectScimError(await acme.scim("/Users"), 401);
  });

  it("never lets a SCIM token act as an API key", async () => {
    const result = await verifyCredential(db, acme, await orgState(testEnv, acme.id).configVersion(), acme.token, null);
    expect(result).toMatchObject({ ok: false, code: "invalid_credential" });
  });
});

describe("SCIM discovery (RFC 7644 §4)", () => {
  it("describes what is supported, the resource types and the schemas", async () => {
    const acme = await seedOrg("acme");
    const config = await body(await acme.scim("/ServiceProviderConfig"));
    expect(config).toMatchObject({
      patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 200 },
      sort: { supported: false }, etag: { supported: true }, changePassword: { supported: false },
      authenticationSchemes: [{ type: "oauthbearertoken" }],
    });
    const types = await body(await acme.scim("/ResourceTypes"));
    expect(types.Resources.map((t: any) => [t.name, t.endpoint, t.schema])).toEqual([
      ["User", "/Users", USER_SCHEMA],
      ["Group", "/Groups", GROUP_SCHEMA],
    ]);
    expect(types.Resources[0].schemaExtensions).toEqual([{ schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", required: false }]);
    const schemas = await body(await acme.scim("/Schemas"));
    expect(schemas.totalResults).toBe(3);
    const user = await body(await acme.scim(`/Schemas/${USER_SCHEMA}`));
    expect(user.attributes.find((a: any) => a.name === "userName")).toMatchObject({ required: true, uniqueness: "server", caseExact: false });
    expect((await acme.scim("/ResourceTypes/Group")).status).toBe(200);
    await expectScimError(await acme.scim("/Schemas/urn:nope"), 404);
    await expectScimError(await acme.scim("/Bulk", { method: "POST", json: {} }), 501);
    await expectScimError(await acme.scim("/Me"), 501);
  });
});

describe("SCIM Users (RFC 7644 §3.3–3.6)", () => {
  let acme: Tenant;
  beforeEach(async () => {
    acme = await seedOrg("acme");
  });

  it("creates a user: 201, Location, ETag, meta, userName lower-cased as the email, unknown and read-only attributes dropped", async () => {
    const res = await acme.scim("/Users", {
      method: "POST",
      json: newUser("Ada.Lovelace@Acme.test", {
        externalId: "00uAda",
        name: { givenName: "Ada", familyName: "Lovelace" },
        emails: [{ value: "Ada.Lovelace@Acme.test", type: "work", primary: true }],
        password: "hunter2", shoeSize: 42, groups: [{ value: "x" }], id: "chosen-by-client",
      }),
    });
    expect(res.status).toBe(201);
    const user = await body(res);
    expect(user).toMatchObject({
      schemas: [USER_SCHEMA], userName: "ada.lovelace@acme.test", externalId: "00uAda", active: true,
      name: { givenName: "Ada", familyName: "Lovelace" },
      emails: [{ value: "Ada.Lovelace@Acme.test", type: "work", primary: true }],
      meta: { resourceType: "User", location: `https://${acme.slug}.airlock.localhost/scim/v2/Users/${user.id}` },
    });
    expect(user.id).not.toBe("chosen-by-client");
    for (const dropped of ["password", "shoeSize", "groups"]) expect(user).not.toHaveProperty(dropped);
    expect(res.headers.get("location")).toBe(user.meta.location);
    expect(res.headers.get("etag")).toBe(user.meta.version);
    const row = await db.query.users.findFirst({ where: eq(schema.users.id, user.id) });
    expect(row).toMatchObject({ email: "ada.lovelace@acme.test", name: "Ada Lovelace", status: "active", externalId: "00uAda" });
    expect(JSON.stringify(row)).not.toContain("hunter2");
  });

  it("refuses a duplicate userName with 409 uniqueness, and a missing or non-email userName with invalidValue", async () => {
    await createUser(acme, "ada@acme.test");
    await expectScimError(await acme.scim("/Users", { method: "POST", json: newUser("ADA@acme.test") }), 409, "uniqueness");
    await expectScimError(await acme.scim("/Users", { method: "POST", json: { schemas: [USER_SCHEMA] } }), 400, "invalidValue");
    await expectScimError(await acme.scim("/Users", { method: "POST", json: newUser("not-an-email") }), 400, "invalidValue");
    await expectScimError(await acme.scim("/Users", { method: "POST", json: { userName: "x@acme.test" } }), 400, "invalidSyntax");
    const malformed = await serveScim(
      new Request(`https://${acme.slug}.airlock.localhost/scim/v2/Users`, { method: "POST", headers: { authorization: `Bearer ${acme.token}` }, body: "{" }),
      { requestId: "01TEST", org: acme }, testEnv,
    );
    await expectScimError(malformed, 400, "invalidSyntax");
  });

  it("answers 404 for users of another org, on every method", async () => {
    const globex = await seedOrg("globex");
    const theirs = await createUser(globex, "bob@globex.test");
    await expectScimError(await acme.scim(`/Users/${theirs.id}`), 404);
    await expectScimError(await acme.scim(`/Users/${theirs.id}`, { method: "PUT", json: newUser("bob@globex.test") }), 404);
    await expectScimError(await acme.scim(`/Users/${theirs.id}`, { method: "PATCH", json: { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: false }] } }), 404);
    await expectScimError(await acme.scim(`/Users/${theirs.id}`, { method: "DELETE" }), 404);
    expect((await globex.scim(`/Users/${theirs.id}`)).status).toBe(200);
  });

  it("replaces with PUT: attributes not sent are cleared, but an omitted active or externalId is kept", async () => {
    const ada = await createUser(acme, "ada@acme.test", { externalId: "ext-1", title: "Engineer", active: false });
    const res = await acme.scim(`/Users/${ada.id}`, { method: "PUT", json: newUser("ada@acme.test", { active: undefined, displayName: "Ada L." }) });
    expect(res.status).toBe(200);
    const replaced = await body(res);
    expect(replaced).toMatchObject({ displayName: "Ada L.", externalId: "ext-1", active: false });
    expect(replaced).not.toHaveProperty("title");
  });

  it("changes userName with PATCH, refusing one another user has", async () => {
    const ada = await createUser(acme, "ada@acme.test");
    await createUser(acme, "bob@acme.test");
    const patch = (userName: string) => acme.scim(`/Users/${ada.id}`, { method: "PATCH", json: { schemas: [PATCH], Operations: [{ op: "Replace", path: "userName", value: userName }] } });
    await expectScimError(await patch("Bob@acme.test"), 409, "uniqueness");
    expect((await body(await patch("ada.l@acme.test"))).userName).toBe("ada.l@acme.test");
  });

  it("deactivates with PATCH: the user's API key is refused on its next verification", async () => {
    const ada = await createUser(acme, "ada@acme.test");
    const key = await mintToken("api_key");
    await db.insert(schema.apiKeys).values({ id: key.id, orgId: acme.id, name: "laptop", userId: ada.id, secretHash: key.hash, hint: key.hint, createdAt: Date.now() });
    const verify = async () => verifyCredential(db, acme, await orgState(testEnv, acme.id).configVersion(), key.token, null);
    expect(await verify()).toMatchObject({ ok: true });

    const res = await acme.scim(`/Users/${ada.id}`, { method: "PATCH", json: { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] } });
    expect(res.status).toBe(200);
    expect((await body(res)).active).toBe(false);
    expect(await verify()).toMatchObject({ ok: false, code: "user_deactivated" });
  });

  it("paginates 1-based with startIndex and count, in a stable order", async () => {
    for (const n of [1, 2, 3, 4, 5]) await createUser(acme, `user${n}@acme.test`);
    const page = await body(await acme.scim("/Users?startIndex=2&count=2"));
    expect(page).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(page.Resources.map((u: any) => u.userName)).toEqual(["user2@acme.test", "user3@acme.test"]);
    expect((await body(await acme.scim("/Users?count=0"))).Resources).toEqual([]);
    expect((await body(await acme.scim("/Users?startIndex=0&count=1"))).startIndex).toBe(1);
    const filtered = await body(await acme.scim(`/Users?filter=${encodeURIComponent('userName sw "user"')}&startIndex=5&count=10`));
    expect(filtered).toMatchObject({ totalResults: 5, itemsPerPage: 1 });
    await expectScimError(await acme.scim("/Users?count=many"), 400, "invalidValue");
  });

  it("filters (narrowed in SQL or evaluated in memory) and refuses a malformed filter with invalidFilter", async () => {
    await createUser(acme, "ada@acme.test", { externalId: "e-ada", emails: [{ value: "ada@work.test", type: "work" }] });
    await createUser(acme, "bob@acme.test", { externalId: "e-bob", active: false });
    const find = async (filter: string) =>
      (await body(await acme.scim(`/Users?filter=${encodeURIComponent(filter)}`))).Resources.map((u: any) => u.userName);
    expect(await find('userName eq "ADA@acme.test"')).toEqual(["ada@acme.test"]);
    expect(await find('externalId eq "e-bob"')).toEqual(["bob@acme.test"]);
    expect(await find('emails[type eq "work"].value eq "ada@work.test"')).toEqual(["ada@acme.test"]);
    expect(await find("active eq false")).toEqual(["bob@acme.test"]);
    expect(await find('userName eq "nobody@acme.test"')).toEqual([]);
    await expectScimError(await acme.scim(`/Users?filter=${encodeURIComponent('userName eq "unterminated')}`), 400, "invalidFilter");
    await expectScimError(await acme.scim(`/Users?filter=${encodeURIComponent('favouriteColour eq "red"')}`), 400, "invalidFilter");
    const search = await acme.scim("/Users/.search", {
      method: "POST",
      json: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'userName sw "b"', attributes: ["userName"] },
    });
    expect((await body(search)).Resources).toEqual([{ schemas: [USER_SCHEMA], id: expect.any(String), userName: "bob@acme.test" }]);
  });

  it("returns only the attributes asked for, or all but the excluded ones", async () => {
    const ada = await createUser(acme, "ada@acme.test", { name: { givenName: "Ada", familyName: "Lovelace" }, title: "Eng" });
    const only = await body(await acme.scim(`/Users/${ada.id}?attributes=name.givenName,title`));
    expect(only).toEqual({ schemas: [USER_SCHEMA], id: ada.id, name: { givenName: "Ada" }, title: "Eng" });
    const without = await body(await acme.scim(`/Users/${ada.id}?excludedAttributes=name,meta,id`));
    expect(without).not.toHaveProperty("name");
    expect(without).not.toHaveProperty("meta");
    expect(without.id).toBe(ada.id);
  });

  it("honours ETags: If-None-Match answers 304, a stale If-Match 412", async () => {
    const ada = await createUser(acme, "ada@acme.test");
    const version = ada.meta.version as string;
    expect((await acme.scim(`/Users/${ada.id}`, { headers: { "if-none-match": version } })).status).toBe(304);
    const patch = { schemas: [PATCH], Operations: [{ op: "add", path: "title", value: "Engineer" }] };
    const changed = await body(await acme.scim(`/Users/${ada.id}`, { method: "PATCH", json: patch, headers: { "if-match": version } }));
    expect(changed.meta.version).not.toBe(version);
    await expectScimError(await acme.scim(`/Users/${ada.id}`, { method: "DELETE", headers: { "if-match": version } }), 412);
  });

  it("deletes a user with 204, with their memberships and API keys; every write bumps the config version", async () => {
    const ada = await createUser(acme, "ada@acme.test");
    const group = await body(await acme.scim("/Groups", { method: "POST", json: { schemas: [GROUP_SCHEMA], displayName: "SRE", members: [{ value: ada.id }] } }));
    const before = await orgState(testEnv, acme.id).configVersion();
    await acme.scim(`/Users/${ada.id}`);
    await acme.scim("/Users/.search", { method: "POST", json: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"] } });
    expect(await orgState(testEnv, acme.id).configVersion()).toBe(before);
    expect((await acme.scim(`/Users/${ada.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await orgState(testEnv, acme.id).configVersion()).toBe(before + 1);
    await expectScimError(await acme.scim(`/Users/${ada.id}`), 404);
    expect((await body(await acme.scim(`/Groups/${group.id}`))).members).toEqual([]);
  });
});

describe("SCIM Groups become teams", () => {
  let acme: Tenant;
  beforeEach(async () => {
    acme = await seedOrg("acme");
  });

  it("derives team slugs from displayName", () => {
    expect(slugOf("Data Platform (EU)")).toBe("data-platform-eu");
    expect(slugOf("  Équipe Sécurité  ")).toBe("equipe-securite");
    expect(slugOf("営業")).toBe("team");
    expect(slugOf("x".repeat(80))).toHaveLength(63);
    expect(slugOf(`${"a".repeat(62)} b`)).toBe("a".repeat(62));
  });

  it("creates a team with its members; a second group with the same slug gets a suffix; the same displayName is 409", async () => {
    const ada = await createUser(acme, "ada@acme.test");
    const res = await acme.scim("/Groups", { method: "POST", json: { schemas: [GROUP_SCHEMA], displayName: "Site Reliability", externalId: "g-1", members: [{ value: ada.id }] } });
    expect(res.status).toBe(201);
    const group = await body(res);
    expect(group).toMatchObject({
      displayName: "Site Reliability", externalId: "g-1",
      members: [{ value: ada.id, display: "ada@acme.test", type: "User", $ref: expect.stringMatching(new RegExp(`/Users/${ada.id}$`)) }],
      meta: { resourceType: "Group", location: expect.stringMatching(/\/scim\/v2\/Groups\//) },
    });
    const team = await db.query.teams.findFirst({ where: eq(schema.teams.id, group.id) });
    expect(team).toMatchObject({ orgId: acme.id, name: "site-reliability", displayName: "Site Reliability" });

    const twin = await body(await acme.scim("/Groups", { method: "POST", json: { schemas: [GROUP_SCHEMA], displayName: "Site-Reliability!" } }));
    expect((await db.query.teams.findFirst({ where: eq(schema.teams.id, twin.id) }))?.name).toBe("site-reliability-2");
    await expectScimError(await acme.scim("/Groups", { method: "POST", json: { schemas: [GROUP_SCHEMA], displayName: "site reliability" } }), 409, "uniqueness");
  });

  it("refuses members that are not users of this org", async () => {
    const globex = await seedOrg("globex");
    const bob = await createUser(globex, "bob@globex.test");
    await expectScimError(await acme.scim("/Groups", { method: "POST", json: { schemas: [GROUP_SCHEMA], displayName: "SRE", members: [{ value: bob.id }] } }), 400, "invalidValue");
    expect(await db.query.teams.findFirst({ where: eq(schema.teams.orgId, acme.id) })).toBeUndefined();
  });

  it("adds and removes members with PATCH, renames the team, and the principal's teams follow", async () => {
    const [ada, bob] = [await createUser(acme, "ada@acme.test"), await createUser(acme, "bob@acme.test")];
    const group = await body(await acme.scim("/Groups", { method: "POST", json: { schemas: [GROUP_SCHEMA], displayName: "SRE", members: [{ value: ada.id }] } }));
    const key = await mintToken("api_key");
    await db.insert(schema.apiKeys).values({ id: key.id, orgId: acme.id, name: "laptop", userId: bob.id, secretHash: key.hash, hint: key.hint, createdAt: Date.now() });
    const teamsOfBob = async () => {
      const result = await verifyCredential(db, acme, await orgState(testEnv, acme.id).configVersion(), key.token, null);
      return result.ok ? result.principal.teams.map((t) => t.name) : result;
    };
    expect(await teamsOfBob()).toEqual([]);

    const res = await acme.scim(`/Groups/${group.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH], Operations: [
        { op: "remove", path: `members[value eq "${ada.id}"]` },
        { op: "add", path: "members", value: [{ value: bob.id, display: "bob@acme.test" }] },
        { op: "replace", path: "displayName", value: "SRE On-call" },
      ] },
    });
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ displayName: "SRE On-call", members: [{ value: bob.id }] });
    expect(await teamsOfBob()).toEqual(["sre-on-call"]);

    const get = await body(await acme.scim(`/Groups/${group.id}?excludedAttributes=members`));
    expect(get).not.toHaveProperty("members");
    const byName = await body(await acme.scim(`/Groups?filter=${encodeURIComponent('displayName eq "sre on-call"')}`));
    expect(byName.Resources.map((g: any) => g.id)).toEqual([group.id]);
    const byMember = await body(await acme.scim(`/Groups?filter=${encodeURIComponent(`members.value eq "${bob.id}"`)}`));
    expect(byMember.totalResults).toBe(1);

    expect((await acme.scim(`/Groups/${group.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await teamsOfBob()).toEqual([]);
  });

  it("replaces with PUT: members sent replace the team's, omitted members stay", async () => {
    const [ada, bob] = [await createUser(acme, "ada@acme.test"), await createUser(acme, "bob@acme.test")];
    const group = await body(await acme.scim("/Groups", { method: "POST", json: { schemas: [GROUP_SCHEMA], displayName: "SRE", members: [{ value: ada.id }] } }));
    const renamed = await body(await acme.scim(`/Groups/${group.id}`, { method: "PUT", json: { schemas: [GROUP_SCHEMA], displayName: "SRE" } }));
    expect(renamed.members.map((m: any) => m.value)).toEqual([ada.id]);
    const replaced = await body(await acme.scim(`/Groups/${group.id}`, { method: "PUT", json: { schemas: [GROUP_SCHEMA], displayName: "SRE", members: [{ value: bob.id }] } }));
    expect(replaced.members.map((m: any) => m.value)).toEqual([bob.id]);
  });

  it("lists a team made in the admin API, by its name", async () => {
    await db.insert(schema.teams).values({ id: `${acme.id}_t`, orgId: acme.id, name: "platform", createdAt: Date.now(), updatedAt: Date.now() });
    const listed = await body(await acme.scim(`/Groups?filter=${encodeURIComponent('displayName eq "Platform"')}`));
    expect(listed.Resources).toMatchObject([{ id: `${acme.id}_t`, displayName: "platform", members: [] }]);
  });
});
