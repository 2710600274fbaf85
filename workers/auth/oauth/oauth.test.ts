import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database, schema } from "../../../shared/db/index.ts";
import { resourceOfIdentifier, resourceOfMetadataUrl, resourceOfRequest } from "../../../shared/protected-resource.ts";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";
import { verifyAccessToken } from "./access-token.ts";
import { consentPage, escapeHtml } from "./pages.ts";
import { authorizationServer, grantedScopes } from "./server.ts";
import { DEFAULT_OAUTH_SETTINGS } from "./settings.ts";
import { orgKv, orgOAuthEnv } from "./store.ts";

const testEnv = env as unknown as Env;
const db = database(testEnv.DB);
const now = Date.now();

async function seedOrg() {
  const unique = crypto.randomUUID().slice(0, 8);
  const org = { id: `org_${unique}`, slug: `acme-${unique}`, name: "Acme" };
  await db.insert(schema.orgs).values({ ...org, createdAt: now });
  const user = { id: `${org.id}_u`, orgId: org.id, email: `ada@${unique}.test`, createdAt: now, updatedAt: now };
  await db.insert(schema.users).values(user);
  await db.insert(schema.teams).values({ id: `${org.id}_t`, orgId: org.id, name: "sre", createdAt: now, updatedAt: now });
  await db.insert(schema.teamMemberships).values({ orgId: org.id, teamId: `${org.id}_t`, userId: user.id, createdAt: now });
  return { org, user, origin: `https://${org.slug}.airlock.localhost` };
}

const b64url = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** A real access token from the library: client, authorization (PKCE S256, resource), code exchange. */
async function issueToken(seeded: Awaited<ReturnType<typeof seedOrg>>, resource: string) {
  const { org, user, origin } = seeded;
  const orgEnv = orgOAuthEnv(testEnv, org.id);
  const server = authorizationServer(origin, [resource], DEFAULT_OAUTH_SETTINGS);
  const oauth = server.getOAuthApi(orgEnv);
  const redirectUri = "http://127.0.0.1:9999/cb";
  const client = await oauth.createClient({ redirectUris: [redirectUri], clientName: "unit agent", tokenEndpointAuthMethod: "none" });
  const verifier = "v".repeat(43);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    response_type: "code", client_id: client.clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: "S256", resource,
  });
  const request = await oauth.parseAuthRequest(new Request(`${origin}/oauth/authorize?${params}`));
  const { redirectTo } = await oauth.completeAuthorization({
    request, userId: user.id, metadata: {}, scope: ["mcp"], props: { org_id: org.id, user_id: user.id, client_name: "unit agent" },
  });
  const code = new URL(redirectTo).searchParams.get("code")!;
  const response = await server.fetch(
    new Request(`${origin}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, client_id: client.clientId, redirect_uri: redirectUri, code_verifier: verifier, resource }),
    }),
    orgEnv,
    createExecutionContext(),
  );
  expect(response.status).toBe(200);
  const tokens = (await response.json()) as { access_token: string; resource: string };
  expect(tokens.resource).toBe(resource);
  return { token: tokens.access_token, clientId: client.clientId };
}

describe("the org's slice of the OAuth store", () => {
  it("keeps each org's keys apart and lists only its own, without the prefix", async () => {
    const a = orgKv(testEnv.OAUTH_KV, "org_a");
    const b = orgKv(testEnv.OAUTH_KV, "org_b");
    await a.put("client:one", "{}");
    await b.put("client:two", "{}");
    expect(await b.get("client:one")).toBeNull();
    expect((await a.list({ prefix: "client:" })).keys.map((k) => k.name)).toEqual(["client:one"]);
    expect(await testEnv.OAUTH_KV.get("org:org_a:client:one")).toBe("{}");
    await a.delete("client:one");
    expect(await a.get("client:one")).toBeNull();
  });
});

describe("protected resources", () => {
  const origin = "https://acme.airlock.localhost";
  it.each([
    ["https://acme.airlock.localhost/mcp/demo", "mcp", "demo"],
    ["https://ACME.airlock.localhost/mcp/demo", "mcp", "demo"],
    ["https://acme.airlock.localhost/llm/openai", "llm", "openai"],
  ])("%s names %s/%s", (identifier, kind, name) => {
    expect(resourceOfIdentifier(origin, identifier)).toMatchObject({ kind, name, id: `${origin}/${kind}/${name}` });
  });

  it.each([
    "https://globex.airlock.localhost/mcp/demo", "https://acme.airlock.localhost/mcp", "https://acme.airlock.localhost/mcp/demo/",
    "https://acme.airlock.localhost/mcp/demo?x=1", "https://acme.airlock.localhost/mcp/Demo", "http://acme.airlock.localhost/mcp/demo",
    "https://acme.airlock.localhost/api/v1", "not a url", "https://user@acme.airlock.localhost/mcp/demo",
  ])("%s is not a resource of the org", (identifier) => {
    expect(resourceOfIdentifier(origin, identifier)).toBeNull();
  });

  it("finds the resource of a request and of a metadata URL (RFC 9728 §3.1 path insertion)", () => {
    expect(resourceOfRequest(new URL(`${origin}/llm/openai/v1/chat/completions`))?.id).toBe(`${origin}/llm/openai`);
    expect(resourceOfRequest(new URL(`${origin}/mcp/demo`))?.metadataUrl).toBe(`${origin}/.well-known/oauth-protected-resource/mcp/demo`);
    expect(resourceOfMetadataUrl(new URL(`${origin}/.well-known/oauth-protected-resource/mcp/demo`))?.id).toBe(`${origin}/mcp/demo`);
    expect(resourceOfMetadataUrl(new URL(`${origin}/.well-known/oauth-protected-resource/mcp/demo/extra`))).toBeNull();
  });

  it("grants the scopes the resource knows, or its baseline", () => {
    const mcp = resourceOfIdentifier(origin, `${origin}/mcp/demo`)!;
    expect(grantedScopes([], mcp)).toEqual(["mcp"]);
    expect(grantedScopes(["mcp", "offline_access", "admin"], mcp)).toEqual(["mcp", "offline_access"]);
    expect(grantedScopes(["llm", "offline_access"], mcp)).toEqual(["mcp", "offline_access"]);
  });
});

describe("the consent page", () => {
  it("escapes everything the client chose", () => {
    const evil = `"><script>alert(1)</script>`;
    const html = consentPage({
      details: { clientId: "c", clientName: evil, redirectUri: "http://127.0.0.1/cb", redirectHost: `127.0.0.1${evil}`, redirectIsLoopback: true, scope: [evil] },
      handle: `h"${evil}`, action: "/oauth/consent", org: { name: "Acme" }, user: { email: "ada@acme.test" },
      resource: resourceOfIdentifier("https://acme.airlock.localhost", "https://acme.airlock.localhost/mcp/demo")!,
      scopes: ["mcp"],
    });
    expect(html).not.toContain("<script>");
    expect(html).toContain(escapeHtml(evil));
    expect(html).toContain("This app registered itself; its name is not verified.");
    expect(html).toContain("Access goes to an app on this computer.");
  });
});

describe("OAuth access tokens as principals", () => {
  it("turn into the user's principal at the resource they were issued for", async () => {
    const seeded = await seedOrg();
    const resource = `${seeded.origin}/mcp/demo`;
    const { token, clientId } = await issueToken(seeded, resource);
    const version = await orgState(testEnv, seeded.org.id).configVersion();
    const result = await verifyAccessToken(db, testEnv, seeded.org, version, token, resource, "Cursor/1.7.2");
    expect(result).toMatchObject({
      ok: true,
      principal: {
        kind: "oauth", org_id: seeded.org.id, user_id: seeded.user.id, email: seeded.user.email, roles: [],
        teams: [{ id: `${seeded.org.id}_t`, name: "sre" }], client: { name: "cursor", version: "1.7.2" },
        oauth_client: { id: clientId, name: "unit agent" },
      },
    });
  });

  it("are refused at another resource, on another org, when made up, and once their user is deactivated", async () => {
    const seeded = await seedOrg();
    const other = await seedOrg();
    const resource = `${seeded.origin}/mcp/demo`;
    const { token } = await issueToken(seeded, resource);
    const version = await orgState(testEnv, seeded.org.id).configVersion();
    const verify = (t: string, r = resource, org = seeded.org, v = version) => verifyAccessToken(db, testEnv, org, v, t, r, null);

    expect(await verify(token, `${seeded.origin}/mcp/other`)).toMatchObject({ ok: false, code: "credential_wrong_resource" });
    expect(await verify(token, `${seeded.origin}/llm/openai`)).toMatchObject({ ok: false, code: "credential_wrong_resource" });
    expect(await verify(token, `${other.origin}/mcp/demo`, other.org)).toMatchObject({ ok: false, code: "credential_wrong_org" });
    expect(await verify(`${seeded.user.id}:nogrant:secret`)).toMatchObject({ ok: false, code: "invalid_credential" });
    expect(await verify("not-a-token")).toMatchObject({ ok: false, code: "invalid_credential" });

    await db.update(schema.users).set({ status: "deactivated" }).where(eq(schema.users.id, seeded.user.id));
    // Cached until the org's config version moves, as every admin write and SCIM change does.
    expect(await verify(token)).toMatchObject({ ok: true });
    const bumped = await orgState(testEnv, seeded.org.id).bumpConfigVersion();
    expect(await verify(token, resource, seeded.org, bumped)).toMatchObject({ ok: false, code: "user_deactivated" });
  });
});
