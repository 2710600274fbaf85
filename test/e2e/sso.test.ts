import { discoverAuthorizationServerMetadata, registerClient, startAuthorization } from "@modelcontextprotocol/sdk/client/auth.js";
import type { AuthorizationServerMetadata } from "@modelcontextprotocol/sdk/shared/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIdp, type Idp, type IdpUser, type Misbehaviour } from "../fixtures/oidc-idp.ts";
import { Browser, meshFetch } from "./browser.ts";
import { startMesh, type Mesh } from "./mesh.ts";

let mesh: Mesh;
let idp: Idp;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;
let globex: Awaited<ReturnType<Mesh["createOrg"]>>;
let metadata: AuthorizationServerMetadata;

const ORIGIN = "https://acme.airlock.localhost";
const REDIRECT_URL = "http://127.0.0.1:33419/callback";
const CLIENT_SECRET = "idp-client-secret-never-shown";
const GRACE: IdpUser = { sub: "00u-grace", email: "Grace@Acme.test", name: "Grace Hopper", groups: ["eng-staff", "Compilers"] };
const MALLORY: IdpUser = { sub: "00u-mallory", email: "mallory@acme.test", name: "Mallory", groups: [] };

type Answer = { json(): Promise<unknown> };
const json = async <T = any>(res: Answer | Promise<Answer>) => (await (await res).json()) as T;

const idpConfig = (overrides: Record<string, unknown> = {}) => ({
  issuer: idp.issuer,
  client_id: idp.clientId,
  client_secret: CLIENT_SECRET,
  scopes: ["openid", "email", "profile", "groups"],
  group_teams: { "eng-staff": "engineering" },
  auto_create_teams: true,
  ...overrides,
});

beforeAll(async () => {
  mesh = await startMesh();
  [acme, globex] = [await mesh.createOrg("acme"), await mesh.createOrg("globex")];
  idp = await startIdp({ clientId: "airlock-acme", clientSecret: CLIENT_SECRET, redirectUris: [`${ORIGIN}/sso/callback`], users: [GRACE, MALLORY] });
  metadata = (await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: meshFetch(mesh) }))!;
});
afterAll(async () => {
  await mesh?.close();
  await idp?.close();
});

/** An MCP client's authorization request, followed through the IdP login up to (not into) Airlock's SSO callback. */
async function toCallback(user: IdpUser, org = { origin: ORIGIN }) {
  const client = await registerClient(org.origin, { metadata, clientMetadata: { client_name: "SSO test agent", redirect_uris: [REDIRECT_URL], token_endpoint_auth_method: "none" }, fetchFn: meshFetch(mesh) });
  const { authorizationUrl } = await startAuthorization(org.origin, { metadata, clientInformation: client, redirectUrl: REDIRECT_URL, resource: `${org.origin}/mcp/demo`, state: "client-state" });
  const browser = new Browser(mesh);
  const toIdp = await browser.follow(authorizationUrl, (location) => location.origin === idp.issuer);
  expect(toIdp.url.origin).toBe(idp.issuer);
  // What Airlock asked the IdP for: code flow with PKCE S256, a nonce, its own redirect URI.
  expect(Object.fromEntries(toIdp.url.searchParams)).toMatchObject({
    response_type: "code", client_id: idp.clientId, redirect_uri: `${ORIGIN}/sso/callback`, code_challenge_method: "S256", scope: "openid email profile groups",
  });
  expect(toIdp.url.searchParams.get("nonce")).toBeTruthy();
  const loginPage = await browser.follow(toIdp.url);
  const loggedIn = await browser.submit(loginPage.url, await loginPage.response.text(), { login: user.sub });
  const back = await browser.follow(new URL(loggedIn.headers.get("location")!, loginPage.url), (location) => location.origin === ORIGIN);
  expect(back.url.pathname).toBe("/sso/callback");
  return { browser, callback: back.url };
}

async function expectRefusalEvent(org: typeof acme, response: { headers: { get(name: string): string | null } }, reason: string) {
  const event = await mesh.auditEventOf(org, response.headers.get("x-request-id")!);
  expect(event.airlock).toMatchObject({ decision: "deny", reason });
  expect(event.status_id).toBe(2);
  return event;
}

const userByEmail = async (email: string) => (await json<{ data: any[] }>(acme.api(`/users?email=${encodeURIComponent(email)}`))).data[0];

describe("identity provider admin API", () => {
  it("stores the IdP with its client secret sealed and write-only", async () => {
    expect((await acme.api("/identity-provider")).status).toBe(404);
    const put = await acme.api("/identity-provider", { method: "PUT", json: idpConfig() });
    expect(put.status).toBe(200);
    const saved = await json(put);
    expect(saved).toMatchObject({
      issuer: idp.issuer, client_id: idp.clientId, client_secret_set: true, enabled: true, auto_create_teams: true,
      claims: { email: "email", name: "name", groups: "groups" }, group_teams: { "eng-staff": "engineering" },
      redirect_uri: `${ORIGIN}/sso/callback`,
    });
    const fetched = await acme.api("/identity-provider");
    expect(JSON.stringify(await json(fetched))).not.toContain(CLIENT_SECRET);

    // Omitting the secret keeps it.
    const renamed = await json(acme.api("/identity-provider", { method: "PUT", json: { ...idpConfig(), client_secret: undefined } }));
    expect(renamed.client_secret_set).toBe(true);
  });

  it("refuses an IdP without openid, with a bad team name, or a non-URL issuer", async () => {
    for (const body of [idpConfig({ scopes: ["email"] }), idpConfig({ group_teams: { x: "Not A Slug" } }), idpConfig({ issuer: "idp.example.com" }), { ...idpConfig(), extra: 1 }]) {
      const response = await acme.api("/identity-provider", { method: "PUT", json: body });
      expect(response.status).toBe(422);
      expect(await json(response)).toMatchObject({ code: "validation_failed" });
    }
  });

  it("says so when an org has no IdP, and signs nobody in", async () => {
    const origin = "https://globex.airlock.localhost";
    const theirs = (await discoverAuthorizationServerMetadata(origin, { fetchFn: meshFetch(mesh) }))!;
    const client = await registerClient(origin, {
      metadata: theirs, clientMetadata: { client_name: "x", redirect_uris: [REDIRECT_URL], token_endpoint_auth_method: "none" }, fetchFn: meshFetch(mesh),
    });
    const { authorizationUrl } = await startAuthorization(origin, { metadata: theirs, clientInformation: client, redirectUrl: REDIRECT_URL, resource: `${origin}/mcp/demo` });
    const response = await new Browser(mesh).fetch(authorizationUrl);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("Single sign-on is not set up");
    await expectRefusalEvent(globex, response, "sso_not_configured");
  });
});

describe("sign-in through the org's IdP", () => {
  it("creates the user from the ID token and maps groups to teams, then keeps them in sync", async () => {
    await acme.api("/identity-provider", { method: "PUT", json: idpConfig() });
    const { browser, callback } = await toCallback(GRACE);
    const consent = await browser.fetch(callback);
    expect(consent.status).toBe(200);
    expect(await consent.text()).toContain("grace@acme.test");

    const grace = await userByEmail("grace@acme.test");
    expect(grace).toMatchObject({ name: "Grace Hopper", status: "active" });
    expect(grace.teams.map((t: { name: string }) => t.name)).toEqual(["compilers", "engineering"]);

    // Left the Compilers group at the IdP: the auto-created team loses them, a hand-made team keeps them.
    const manual = await json(acme.api("/teams", { method: "POST", json: { name: "on-call" } }));
    await acme.api(`/teams/${manual.id}/members/${grace.id}`, { method: "PUT" });
    idp.setUser({ ...GRACE, groups: ["eng-staff"], name: "Grace B. Hopper" });
    const again = await toCallback(GRACE);
    expect((await again.browser.fetch(again.callback)).status).toBe(200);
    const synced = await userByEmail("grace@acme.test");
    expect(synced.id).toBe(grace.id);
    expect(synced.name).toBe("Grace B. Hopper");
    expect(synced.teams.map((t: { name: string }) => t.name)).toEqual(["engineering", "on-call"]);
    idp.setUser(GRACE);
  });

  it("links a user an admin created earlier by email on first sign-in", async () => {
    const created = await json(acme.api("/users", { method: "POST", json: { email: "mallory@acme.test" } }));
    const { browser, callback } = await toCallback(MALLORY);
    expect((await browser.fetch(callback)).status).toBe(200);
    expect((await userByEmail("mallory@acme.test")).id).toBe(created.id);
  });

  it("refuses a deactivated user at sign-in (access_denied to the client)", async () => {
    const mallory = await userByEmail("mallory@acme.test");
    await acme.api(`/users/${mallory.id}`, { method: "PATCH", json: { status: "deactivated" } });
    try {
      const { browser, callback } = await toCallback(MALLORY);
      const refused = await browser.fetch(callback);
      expect(refused.status).toBe(302);
      const location = new URL(refused.headers.get("location")!);
      expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: "access_denied", state: "client-state", iss: ORIGIN });
      await expectRefusalEvent(acme, refused, "user_deactivated");
    } finally {
      await acme.api(`/users/${mallory.id}`, { method: "PATCH", json: { status: "active" } });
    }
  });

  it("refuses a replayed callback and one opened in another browser", async () => {
    const { browser, callback } = await toCallback(GRACE);
    const elsewhere = await new Browser(mesh).fetch(callback);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get("location")).toBeNull();
    await expectRefusalEvent(acme, elsewhere, "sso_state_invalid");

    expect((await browser.fetch(callback)).status).toBe(200);
    const replayed = await browser.fetch(callback);
    expect(replayed.status).toBe(400);
    await expectRefusalEvent(acme, replayed, "sso_state_invalid");
  });
});

describe("a misbehaving IdP", () => {
  const cases: [Misbehaviour, RegExp][] = [
    ["expired", /expired/],
    ["tampered", /signature/],
    ["wrong-audience", /"aud"/],
    ["wrong-issuer", /"iss"/],
    ["wrong-nonce", /"nonce"/],
  ];
  it.each(cases)("an ID token that is %s is refused: access_denied to the client, and an event", async (mode, why) => {
    const { browser, callback } = await toCallback(GRACE);
    idp.misbehave(mode);
    const refused = await browser.fetch(callback);
    expect(refused.status).toBe(302);
    const location = new URL(refused.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(REDIRECT_URL);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("error_description")).toMatch(why);
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    expect(location.searchParams.get("code")).toBeNull();
    await expectRefusalEvent(acme, refused, "sso_id_token_invalid");
  });

  it("never created the user a tampered token named", async () => {
    expect(await userByEmail("ceo@acme.test")).toBeUndefined();
  });
});
