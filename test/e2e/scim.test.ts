import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ENTERPRISE, ENTRA_EXTERNAL_ID, ENTRA_HEADERS, ENTRA_USER_NAME, entraCreateGroup, entraCreateUser, entraGroupQuery, entraMembers, entraQuery,
  entraRenameGroup, entraReplaceMultiple, entraSetActive, entraUpdateMultiValued,
} from "../fixtures/scim/entra.ts";
import {
  OKTA_HEADERS, oktaCreateGroup, oktaCreateUser, oktaDeactivateUser, oktaRenameGroup, oktaReplaceMembers, oktaReplaceUser, oktaUpdateMembership,
  oktaUserLookup,
} from "../fixtures/scim/okta.ts";
import { startMesh, type Mesh, type MeshInit } from "./mesh.ts";

type Org = Awaited<ReturnType<Mesh["createOrg"]>>;
type Answer = Awaited<ReturnType<Mesh["request"]>>;

let mesh: Mesh;
beforeAll(async () => {
  mesh = await startMesh();
});
afterAll(() => mesh?.close());

const json = async <T = any>(res: Answer | Promise<Answer>) => (await (await res).json()) as T;

/** The org's SCIM token, minted (or rotated) through the admin API. */
async function rotateScimToken(org: Org) {
  const res = await org.api("/scim-token", { method: "POST" });
  expect(res.status).toBe(201);
  return json<{ id: string; secret: string; hint: string; scim_base_url: string }>(res);
}

/** A SCIM client bound to an org and a token, sending the IdP's headers. */
const scimClient = (org: Org, token: string, headers: Record<string, string>) =>
  (path: string, init: MeshInit = {}) => mesh.request(org.host, path, { token, ...init, headers: { ...headers, ...init.headers } });

/** An API key for a user, and a way to ask what it is: `/api/v1/me` goes through AUTH.authenticate(). */
async function apiKeyOf(org: Org, userId: string) {
  const key = await json(org.api("/api-keys", { method: "POST", json: { name: "laptop", user_id: userId } }));
  return () => mesh.request(org.host, "/api/v1/me", { token: key.secret });
}

async function expectScimError(res: Answer, status: number, scimType?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/scim+json");
  const body = await json(res);
  expect(body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: String(status), detail: expect.any(String) });
  if (scimType) expect(body.scimType).toBe(scimType);
  return body;
}

describe("SCIM token (admin API)", () => {
  it("is minted once, shown once, rotated; the previous token stops working at once", async () => {
    const acme = await mesh.createOrg("acme");
    expect((await acme.api("/scim-token")).status).toBe(404);

    const first = await rotateScimToken(acme);
    expect(first.secret).toMatch(/^alk_scim_[0-9A-Z]{26}_/);
    expect(first.scim_base_url).toBe(`https://${acme.host}/scim/v2`);
    const shown = await json(acme.api("/scim-token"));
    expect(shown).toEqual({ id: first.id, hint: first.hint, created_at: expect.any(String), scim_base_url: first.scim_base_url });
    expect((await mesh.request(acme.host, "/scim/v2/ServiceProviderConfig", { token: first.secret })).status).toBe(200);

    const second = await rotateScimToken(acme);
    expect((await json(acme.api("/scim-token"))).id).toBe(second.id);
    expect((await mesh.request(acme.host, "/scim/v2/Users", { token: second.secret })).status).toBe(200);
    const stale = await mesh.request(acme.host, "/scim/v2/Users", { token: first.secret });
    expect(stale.headers.get("www-authenticate")).toContain('error="invalid_token"');
    await expectScimError(stale, 401);
    const event = await mesh.auditEventOf(acme, stale.headers.get("x-request-id")!);
    expect(event).toMatchObject({ status_id: 2, airlock: { reason: "scim_401" } });

    // A SCIM token is no API key, and an API key is no SCIM token.
    expect((await mesh.request(acme.host, "/api/v1/me", { token: second.secret })).status).toBe(401);
    const key = await json(acme.api("/api-keys", { method: "POST", json: { name: "agent" } }));
    await expectScimError(await mesh.request(acme.host, "/scim/v2/Users", { token: key.secret }), 401);
  });

  it("belongs to its org: another org's SCIM endpoint refuses it", async () => {
    const [initech, globex] = [await mesh.createOrg("initech"), await mesh.createOrg("globex")];
    const token = await rotateScimToken(initech);
    await rotateScimToken(globex);
    await expectScimError(await mesh.request(globex.host, "/scim/v2/Users", { token: token.secret }), 401);
  });
});

describe("Okta's provisioning sequence", () => {
  it("looks up, creates, replaces, pushes a group, updates membership, renames, deactivates", async () => {
    const org = await mesh.createOrg("okta-shop");
    const scim = scimClient(org, (await rotateScimToken(org)).secret, OKTA_HEADERS);

    // Determine if the User already exists: an empty ListResponse, not a 404.
    const lookup = await scim(oktaUserLookup("test.user@okta.local"));
    expect(lookup.status).toBe(200);
    expect(lookup.headers.get("content-type")).toBe("application/scim+json");
    expect(await lookup.json()).toEqual({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [],
    });

    const created = await scim("/scim/v2/Users", { method: "POST", json: oktaCreateUser });
    expect(created.status).toBe(201);
    const user = await json(created);
    expect(user).toMatchObject({ userName: "test.user@okta.local", externalId: "00ujl29u0le5T6Aj10h7", displayName: "Test User", locale: "en-US", active: true });
    expect(user).not.toHaveProperty("password");
    expect(created.headers.get("location")).toBe(`https://${org.host}/scim/v2/Users/${user.id}`);
    // Okta matches by the same filter afterwards: now one result, the same id.
    expect((await json(scim(oktaUserLookup("test.user@okta.local")))).Resources.map((u: any) => u.id)).toEqual([user.id]);
    // The provisioned user is an Airlock user, named from SCIM.
    expect(await json(org.api(`/users/${user.id}`))).toMatchObject({ email: "test.user@okta.local", name: "Test User", status: "active" });
    await expectScimError(await scim("/scim/v2/Users", { method: "POST", json: oktaCreateUser }), 409, "uniqueness");

    const replaced = await scim(`/scim/v2/Users/${user.id}`, { method: "PUT", json: oktaReplaceUser(user.id) });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ name: { givenName: "Another", middleName: "Excited", familyName: "User" }, active: true });

    const me = await apiKeyOf(org, user.id);
    expect((await me()).status).toBe(200);

    // Group Push: the group becomes a team; membership updates reach the user's principal.
    const pushed = await scim("/scim/v2/Groups", { method: "POST", json: oktaCreateGroup });
    expect(pushed.status).toBe(201);
    const group = await json(pushed);
    expect(group).toMatchObject({ displayName: "Test SCIMv2", members: [] });
    const teams = await json(org.api("/teams"));
    expect(teams.data).toMatchObject([{ id: group.id, name: "test-scimv2", member_count: 0 }]);

    const membership = await scim(`/scim/v2/Groups/${group.id}`, { method: "PATCH", json: oktaUpdateMembership("89bb1940-b905-4575-9e7f-6f887cfb368e", user.id) });
    expect(membership.status).toBe(200);
    expect((await json(membership)).members).toMatchObject([{ value: user.id, display: "test.user@okta.local" }]);
    expect(await json(org.api(`/teams/${group.id}/members`))).toMatchObject({ data: [{ user_id: user.id }] });
    expect(await json(me())).toMatchObject({ user_id: user.id, teams: [{ id: group.id, name: "test-scimv2" }] });

    // The name PATCH Okta sends with every membership update changes nothing; a real rename renames the team.
    expect((await json(scim(`/scim/v2/Groups/${group.id}`, { method: "PATCH", json: oktaRenameGroup(group.id) }))).displayName).toBe("Test SCIMv2");
    const renamed = await json(scim(`/scim/v2/Groups/${group.id}`, { method: "PATCH", json: oktaRenameGroup(group.id, "Test SCIMv20") }));
    expect(renamed).toMatchObject({ id: group.id, displayName: "Test SCIMv20", members: [{ value: user.id }] });
    expect(await json(me())).toMatchObject({ teams: [{ id: group.id, name: "test-scimv20" }] });

    // A full push of the membership with replace.
    const replacedMembers = await json(scim(`/scim/v2/Groups/${group.id}`, { method: "PATCH", json: oktaReplaceMembers([]) }));
    expect(replacedMembers).not.toHaveProperty("members.0");
    expect(await json(me())).toMatchObject({ teams: [] });

    // Deactivation: the user's API key is refused on its very next request.
    const deactivated = await scim(`/scim/v2/Users/${user.id}`, { method: "PATCH", json: oktaDeactivateUser });
    expect(deactivated.status).toBe(200);
    expect((await json(deactivated)).active).toBe(false);
    const refused = await me();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: "user_deactivated" });
    // Okta keeps deactivated users readable (it never DELETEs them).
    expect((await json(scim(`/scim/v2/Users/${user.id}`))).active).toBe(false);
  });
});

describe("Entra ID's provisioning sequence", () => {
  it("matches by externalId, creates with the enterprise extension, patches with capitalised ops and string booleans", async () => {
    const org = await mesh.createOrg("contoso");
    const scim = scimClient(org, (await rotateScimToken(org)).secret, ENTRA_HEADERS);

    expect(await json(scim(entraQuery(`externalId eq "${ENTRA_EXTERNAL_ID}"`)))).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim("/scim/v2/Users", { method: "POST", json: entraCreateUser });
    expect(created.status).toBe(201);
    const user = await json(created);
    expect(user).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
      externalId: ENTRA_EXTERNAL_ID, userName: ENTRA_USER_NAME.toLowerCase(), active: true,
      name: { formatted: "givenName familyName" },
      [ENTERPRISE]: { department: "Engineering", employeeNumber: "701984", manager: { value: "26118915-6090-4610-87e4-49d8ca9f808d" } },
    });
    expect(user).not.toHaveProperty("roles");
    for (const filter of [`externalId eq "${ENTRA_EXTERNAL_ID}"`, `userName eq "${ENTRA_USER_NAME}"`, `emails[type eq "work"].value eq "test_user_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"`]) {
      expect((await json(scim(entraQuery(filter)))).Resources.map((u: any) => u.id)).toEqual([user.id]);
    }

    const multi = await json(scim(`/scim/v2/Users/${user.id}`, { method: "PATCH", json: entraUpdateMultiValued }));
    expect(multi).toMatchObject({ emails: [{ value: "updatedEmail@microsoft.com", type: "work", primary: true }], name: { familyName: "updatedFamilyName", givenName: "givenName" } });
    const several = await json(scim(`/scim/v2/Users/${user.id}`, { method: "PATCH", json: entraReplaceMultiple }));
    expect(several).toMatchObject({
      displayName: "Bjfe", name: { givenName: "Kkom", familyName: "Unua" }, emails: [{ value: "TestMhvaes@test.microsoft.com" }],
      [ENTERPRISE]: { employeeNumber: "Aklq", department: "Engineering" },
    });
    expect(await json(org.api(`/users/${user.id}`))).toMatchObject({ name: "Bjfe" });

    const group = await json(scim("/scim/v2/Groups", { method: "POST", json: entraCreateGroup }));
    expect(group).toMatchObject({ externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", displayName: "displayName", members: [] });
    const found = await json(scim(entraGroupQuery("displayName")));
    expect(found.Resources).toHaveLength(1);
    expect(found.Resources[0]).not.toHaveProperty("members");

    const me = await apiKeyOf(org, user.id);
    expect((await scim(`/scim/v2/Groups/${group.id}`, { method: "PATCH", json: entraMembers("Add", user.id) })).status).toBe(200);
    expect(await json(me())).toMatchObject({ teams: [{ id: group.id, name: "displayname" }] });
    expect((await scim(`/scim/v2/Groups/${group.id}`, { method: "PATCH", json: entraRenameGroup("Platform Engineers") })).status).toBe(200);
    expect(await json(me())).toMatchObject({ teams: [{ id: group.id, name: "platform-engineers" }] });
    expect((await scim(`/scim/v2/Groups/${group.id}`, { method: "PATCH", json: entraMembers("Remove", user.id) })).status).toBe(200);
    expect(await json(me())).toMatchObject({ teams: [] });

    // Disable, then restore: Entra soft-deletes with active=false and expects the user still there.
    expect((await json(scim(`/scim/v2/Users/${user.id}`, { method: "PATCH", json: entraSetActive("False") }))).active).toBe(false);
    expect(await json(me())).toMatchObject({ code: "user_deactivated" });
    expect((await json(scim(`/scim/v2/Users/${user.id}`, { method: "PATCH", json: entraSetActive("True") }))).active).toBe(true);
    expect((await me()).status).toBe(200);

    expect((await scim(`/scim/v2/Groups/${group.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await scim(`/scim/v2/Users/${user.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await me()).status).toBe(401);
    expect((await org.api(`/users/${user.id}`)).status).toBe(404);
  });
});

describe("SCIM bad input: refused as RFC 7644 names it, each refusal an event", () => {
  let org: Org;
  let token: string;
  beforeAll(async () => {
    org = await mesh.createOrg("refusals");
    token = (await rotateScimToken(org)).secret;
  });

  const refusals: [string, () => Promise<Answer>, number, string | undefined, string][] = [
    ["no token", () => mesh.request(org.host, "/scim/v2/Users"), 401, undefined, "scim_401"],
    ["a malformed filter", () => mesh.request(org.host, `/scim/v2/Users?filter=${encodeURIComponent('userName eq "unterminated')}`, { token }), 400, "invalidFilter", "invalidFilter"],
    ["a filter on an unknown attribute", () => mesh.request(org.host, `/scim/v2/Users?filter=${encodeURIComponent('shoeSize gt 40')}`, { token }), 400, "invalidFilter", "invalidFilter"],
    ["malformed JSON", () => mesh.request(org.host, "/scim/v2/Users", { token, method: "POST", body: "{", headers: { "content-type": "application/scim+json" } }), 400, "invalidSyntax", "invalidSyntax"],
    ["an id that is not in this org", () => mesh.request(org.host, `/scim/v2/Users/${"0".repeat(26)}`, { token }), 404, undefined, "scim_404"],
  ];

  it.each(refusals)("%s", async (_, send, status, scimType, reason) => {
    const res = await send();
    await expectScimError(res, status, scimType);
    if (status === 401) expect(res.headers.get("www-authenticate")).toBe('Bearer realm="airlock-scim"');
    const event = await mesh.auditEventOf(org, res.headers.get("x-request-id")!);
    expect(event).toMatchObject({ status_id: 2, airlock: { org_slug: "refusals", reason } });
  });

  it("refuses a PATCH of a read-only attribute (mutability) and a path that is no attribute (invalidPath)", async () => {
    const user = await json(mesh.request(org.host, "/scim/v2/Users", { token, method: "POST", json: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "ro@refusals.test" } }));
    const patch = (operation: unknown) =>
      mesh.request(org.host, `/scim/v2/Users/${user.id}`, { token, method: "PATCH", json: { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [operation] } });
    const readOnly = await patch({ op: "replace", path: "id", value: "mine" });
    await expectScimError(readOnly, 400, "mutability");
    expect(await mesh.auditEventOf(org, readOnly.headers.get("x-request-id")!)).toMatchObject({ airlock: { reason: "mutability" } });
    await expectScimError(await patch({ op: "replace", path: "emails[type eq", value: "x" }), 400, "invalidPath");
  });
});
