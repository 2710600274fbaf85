import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  auth,
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  refreshAuthorization,
  registerClient,
  startAuthorization,
  type OAuthClientProvider,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { AuthorizationServerMetadata, OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClientMetadataHost } from "../fixtures/client-metadata.ts";
import { startIdp, type Idp } from "../fixtures/oidc-idp.ts";
import { Browser, meshFetch } from "./browser.ts";
import { startMesh, type Mesh } from "./mesh.ts";

let mesh: Mesh;
let idp: Idp;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;
let globex: Awaited<ReturnType<Mesh["createOrg"]>>;
let metadata: AuthorizationServerMetadata;

const ORIGIN = "https://acme.airlock.localhost";
const MCP_URL = `${ORIGIN}/mcp/demo`;
const REDIRECT_URL = "http://127.0.0.1:33418/oauth/callback";
const ADA = { sub: "00u-ada", email: "ada@acme.test", name: "Ada Lovelace", groups: ["eng-staff", "Data Platform"] };

/** The MCP client's storage, in memory: what Claude Code or Cursor keep on disk. */
class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | undefined;
  readonly clientMetadata: OAuthClientMetadata;
  readonly clientMetadataUrl: string | undefined;
  constructor(clientMetadata: OAuthClientMetadata, clientMetadataUrl?: string) {
    this.clientMetadata = clientMetadata;
    this.clientMetadataUrl = clientMetadataUrl;
  }
  get redirectUrl() {
    return REDIRECT_URL;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

const agentMetadata: OAuthClientMetadata = {
  client_name: "Airlock e2e agent",
  redirect_uris: [REDIRECT_URL],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

beforeAll(async () => {
  mesh = await startMesh();
  [acme, globex] = [await mesh.createOrg("acme"), await mesh.createOrg("globex")];
  idp = await startIdp({
    clientId: "airlock-acme",
    clientSecret: "idp-client-secret-for-tests",
    redirectUris: [`${ORIGIN}/sso/callback`],
    users: [ADA],
  });
  const put = await acme.api("/identity-provider", {
    method: "PUT",
    json: {
      issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret,
      scopes: ["openid", "email", "profile", "groups"], group_teams: { "eng-staff": "engineering" }, auto_create_teams: true,
    },
  });
  expect(put.status).toBe(200);
  metadata = (await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: meshFetch(mesh) }))!;
});
afterAll(async () => {
  await mesh?.close();
  await idp?.close();
});

const fetchFn = () => meshFetch(mesh);

/** The user's side: Airlock → IdP login → back to Airlock's consent page. */
async function signIn(browser: Browser, authorizationUrl: URL, user = ADA) {
  const toIdp = await browser.follow(authorizationUrl, (location) => location.origin === idp.issuer);
  expect(toIdp.url.origin).toBe(idp.issuer);
  const loginPage = await browser.follow(toIdp.url);
  const loggedIn = await browser.submit(loginPage.url, await loginPage.response.text(), { login: user.sub });
  const back = await browser.follow(new URL(loggedIn.headers.get("location")!, loginPage.url), (location) => location.origin === ORIGIN);
  const consent = await browser.fetch(back.url);
  return { consent, html: await consent.text(), url: back.url };
}

/** Sign in and allow: the client's redirect URI with `code`, `state` and `iss`. */
async function approve(authorizationUrl: URL): Promise<URL> {
  const browser = new Browser(mesh);
  const { consent, html, url } = await signIn(browser, authorizationUrl);
  expect(consent.status).toBe(200);
  const approved = await browser.submit(url, html, { decision: "approve" });
  expect(approved.status).toBe(302);
  return new URL(approved.headers.get("location")!);
}

async function registered() {
  return registerClient(ORIGIN, { metadata, clientMetadata: agentMetadata, fetchFn: fetchFn() });
}

/** A code for a freshly registered client, through the SDK's own authorization request (PKCE S256, resource). */
async function codeFor(resource = MCP_URL) {
  const client = await registered();
  const { authorizationUrl, codeVerifier } = await startAuthorization(ORIGIN, { metadata, clientInformation: client, redirectUrl: REDIRECT_URL, resource, state: "st-1" });
  const callback = await approve(authorizationUrl);
  return { client, codeVerifier, code: callback.searchParams.get("code")!, callback };
}

async function tokensFor(resource = MCP_URL) {
  const { client, code, codeVerifier } = await codeFor(resource);
  const tokens = await exchangeAuthorization(ORIGIN, { metadata, clientInformation: client, authorizationCode: code, codeVerifier, redirectUri: REDIRECT_URL, resource, fetchFn: fetchFn() });
  return { client, tokens };
}

const tokenRequest = (params: Record<string, string>) =>
  mesh.server.fetch(`${ORIGIN}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString(),
  }) as unknown as Promise<Response>;

const callMcp = (host: string, path: string, token: string) =>
  mesh.request(host, path, { method: "POST", token, json: { jsonrpc: "2.0", id: 1, method: "tools/list" } });

/** Every refusal is an event: a deny naming the refusal's code. */
async function expectRefusalEvent(org: typeof acme, response: { headers: { get(name: string): string | null } }, reason: string) {
  const event = await mesh.auditEventOf(org, response.headers.get("x-request-id")!);
  expect(event.airlock).toMatchObject({ decision: "deny", reason });
  return event;
}

describe("discovery", () => {
  it("answers a request without a token with 401 pointing at the resource's metadata (RFC 9728 §5.1), in each protocol", async () => {
    const mcp = await mesh.request(acme.host, "/mcp/demo", { method: "POST", json: { jsonrpc: "2.0", id: "a1", method: "initialize" } });
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get("www-authenticate")).toBe(
      `Bearer realm="airlock", resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp/demo", scope="mcp"`,
    );
    expect(await mcp.json()).toMatchObject({ jsonrpc: "2.0", id: "a1", error: { code: -32000 } });
    await expectRefusalEvent(acme, mcp, "unauthenticated");

    const llm = await mesh.request(acme.host, "/llm/openai/v1/chat/completions", { method: "POST", json: { model: "gpt-4o" } });
    expect(llm.status).toBe(401);
    expect(llm.headers.get("www-authenticate")).toContain(`resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/llm/openai"`);
    expect(await llm.json()).toMatchObject({ error: { type: "authentication_error", code: "missing_credential" } });
  });

  it("publishes protected resource metadata (RFC 9728 §3) and authorization server metadata (RFC 8414)", async () => {
    const prm = await (await mesh.request(acme.host, "/.well-known/oauth-protected-resource/mcp/demo")).json();
    expect(prm).toMatchObject({ resource: MCP_URL, authorization_servers: [ORIGIN], scopes_supported: ["mcp"], bearer_methods_supported: ["header"] });
    expect((await mesh.request(acme.host, "/.well-known/oauth-protected-resource/mcp/Bad Name")).status).toBe(404);

    expect(metadata).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/oauth/authorize`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      registration_endpoint: `${ORIGIN}/oauth/register`,
      revocation_endpoint: `${ORIGIN}/oauth/token`,
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
      response_types_supported: ["code"],
    });
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token"]));
    // Each org is its own issuer.
    const other = (await (await mesh.request(globex.host, "/.well-known/oauth-authorization-server")).json()) as { issuer: string };
    expect(other.issuer).toBe("https://globex.airlock.localhost");
  });
});

describe("the MCP SDK client's OAuth flow", () => {
  it("discovers, registers (DCR), signs in at the IdP, consents, and calls /mcp/demo as the IdP user with their teams", async () => {
    const provider = new MemoryProvider(agentMetadata);
    const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider, fetch: fetchFn() });
    const client = new Client({ name: "e2e", version: "1.0.0" });
    await expect(client.connect(transport)).rejects.toThrow(/Unauthorized/);
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${ORIGIN}/oauth/authorize`);
    expect(authorizationUrl.searchParams.get("resource")).toBe(MCP_URL);
    expect(authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256");

    const browser = new Browser(mesh);
    const { consent, html, url } = await signIn(browser, authorizationUrl);
    expect(consent.status).toBe(200);
    expect(consent.headers.get("x-frame-options")).toBe("DENY");
    expect(consent.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(html).toContain("Airlock e2e agent");
    expect(html).toContain("127.0.0.1"); // where access is sent
    expect(html).toContain("<code>mcp</code>"); // the scope
    expect(html).toContain(ADA.email);

    const approved = await browser.submit(url, html, { decision: "approve" });
    const callback = new URL(approved.headers.get("location")!);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URL);
    expect(callback.searchParams.get("iss")).toBe(ORIGIN); // RFC 9207
    await transport.finishAuth(callback.searchParams.get("code")!);
    expect(provider.saved).toMatchObject({ token_type: "bearer", scope: "mcp" });

    // The SDK client itself, now authorized: the gateway has no server "demo" registered yet.
    const connected = new Client({ name: "e2e", version: "1.0.0" });
    await expect(connected.connect(new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider, fetch: fetchFn() }))).rejects.toThrow(/404|No MCP server/);

    const response = await mesh.request(acme.host, "/mcp/demo", {
      method: "POST", token: provider.saved!.access_token, headers: { "user-agent": "claude-cli/2.0.14 (external, cli)" },
      json: { jsonrpc: "2.0", id: 7, method: "tools/list" },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32001, message: "No MCP server named 'demo' is registered in org acme" } });
    const event = await mesh.auditEventOf(acme, response.headers.get("x-request-id")!);
    expect(event.actor.user).toMatchObject({ email_addr: ADA.email });
    expect(event.actor.user.groups.map((g: { name: string }) => g.name)).toEqual(["data-platform", "engineering"]);
    expect(event.actor.app_name).toBe("claude-code");
    expect(event.airlock).toMatchObject({ credential_kind: "oauth", oauth_client: { id: (provider.info as { client_id: string }).client_id, name: "Airlock e2e agent" } });
    expect(JSON.stringify(event)).not.toContain(provider.saved!.access_token);

    // Refresh through the SDK: a new access and refresh token (rotation).
    const before = provider.saved!;
    expect(await auth(provider, { serverUrl: MCP_URL, fetchFn: fetchFn() })).toBe("AUTHORIZED");
    expect(provider.saved!.access_token).not.toBe(before.access_token);
    expect(provider.saved!.refresh_token).not.toBe(before.refresh_token);
    expect((await callMcp(acme.host, "/mcp/demo", provider.saved!.access_token)).status).toBe(404);
  });

  it("answers /llm/<provider> for a token issued for it, in OpenAI's error format", async () => {
    const { tokens } = await tokensFor(`${ORIGIN}/llm/openai`);
    const response = await mesh.request(acme.host, "/llm/openai/v1/chat/completions", { method: "POST", token: tokens.access_token, json: { model: "gpt-4o" } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "provider_not_found", message: expect.stringContaining("No model provider named 'openai' is configured in org acme") } });
    const event = await mesh.auditEventOf(acme, response.headers.get("x-request-id")!);
    expect(event.actor.user.email_addr).toBe(ADA.email);
  });
});

describe("Client ID Metadata Documents", () => {
  it("lets the SDK client use its metadata document URL as client_id, named by its domain on the consent page", async () => {
    const host = await startClientMetadataHost((clientId) => ({
      client_id: clientId, client_name: "CIMD <b>agent</b>", redirect_uris: [REDIRECT_URL],
      grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none",
    }));
    try {
      expect(metadata.client_id_metadata_document_supported).toBe(true);
      const provider = new MemoryProvider(agentMetadata, host.clientId);
      expect(await auth(provider, { serverUrl: MCP_URL, fetchFn: fetchFn() })).toBe("REDIRECT");
      expect(provider.authorizationUrl!.searchParams.get("client_id")).toBe(host.clientId);

      const browser = new Browser(mesh);
      const { html, url } = await signIn(browser, provider.authorizationUrl!);
      expect(html).toContain("CIMD &#60;b&#62;agent&#60;/b&#62;"); // escaped, never markup
      expect(html).toContain("Published by <strong>127.0.0.1</strong>");
      const approved = await browser.submit(url, html, { decision: "approve" });
      const code = new URL(approved.headers.get("location")!).searchParams.get("code")!;
      expect(await auth(provider, { serverUrl: MCP_URL, authorizationCode: code, fetchFn: fetchFn() })).toBe("AUTHORIZED");
      expect((await callMcp(acme.host, "/mcp/demo", provider.saved!.access_token)).status).toBe(404);
      expect(host.served()).toBeGreaterThan(0);
    } finally {
      await host.close();
    }
  });

  it("is refused when the org turns metadata documents off", async () => {
    await acme.api("/oauth-settings", { method: "PUT", json: { dynamic_registration: true, client_metadata_documents: false, access_token_ttl_seconds: 3600 } });
    try {
      const off = (await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: fetchFn() }))!;
      expect(off.client_id_metadata_document_supported).toBe(false);
      const url = new URL(`${ORIGIN}/oauth/authorize`);
      for (const [k, v] of Object.entries({ response_type: "code", client_id: "https://127.0.0.1:9/agent/client.json", redirect_uri: REDIRECT_URL, resource: MCP_URL, code_challenge: "a".repeat(43), code_challenge_method: "S256" })) url.searchParams.set(k, v);
      const response = (await mesh.server.fetch(url.href, { redirect: "manual" })) as unknown as Response;
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
    } finally {
      await acme.api("/oauth-settings", { method: "PUT", json: { dynamic_registration: true, client_metadata_documents: true, access_token_ttl_seconds: 3600 } });
    }
  });
});

describe("attacks on the authorization server", () => {
  it("refuses a redirect URI the client did not register, without redirecting to it", async () => {
    const client = await registered();
    const { authorizationUrl } = await startAuthorization(ORIGIN, { metadata, clientInformation: client, redirectUrl: "https://evil.test/cb", resource: MCP_URL });
    const response = await mesh.server.fetch(authorizationUrl.href, { redirect: "manual" }) as unknown as Response;
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    await expectRefusalEvent(acme, response, "invalid_request");
  });

  it("refuses an authorization request without PKCE (invalid_request, back to the client)", async () => {
    const client = await registered();
    const url = new URL(`${ORIGIN}/oauth/authorize`);
    for (const [k, v] of Object.entries({ response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT_URL, resource: MCP_URL, state: "s" })) url.searchParams.set(k, v);
    const response = await mesh.server.fetch(url.href, { redirect: "manual" }) as unknown as Response;
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    await expectRefusalEvent(acme, response, "invalid_request");
  });

  it("refuses an authorization request without a resource, or for one that is not the org's (invalid_target, RFC 8707)", async () => {
    const client = await registered();
    for (const resource of [undefined, "https://globex.airlock.localhost/mcp/demo", `${ORIGIN}/mcp`]) {
      const { authorizationUrl } = await startAuthorization(ORIGIN, { metadata, clientInformation: client, redirectUrl: REDIRECT_URL, ...(resource ? { resource } : {}) });
      const response = await mesh.server.fetch(authorizationUrl.href, { redirect: "manual" }) as unknown as Response;
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get("location")!).searchParams.get("error")).toBe("invalid_target");
      await expectRefusalEvent(acme, response, "invalid_target");
    }
  });

  it("refuses a wrong PKCE verifier (invalid_grant, RFC 7636 §4.6) and a missing one (invalid_request)", async () => {
    const { client, code } = await codeFor();
    const wrong = await tokenRequest({ grant_type: "authorization_code", code, client_id: client.client_id, redirect_uri: REDIRECT_URL, code_verifier: "x".repeat(64), resource: MCP_URL });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: "invalid_grant" });
    await expectRefusalEvent(acme, wrong, "invalid_grant");

    const fresh = await codeFor();
    const missing = await tokenRequest({ grant_type: "authorization_code", code: fresh.code, client_id: fresh.client.client_id, redirect_uri: REDIRECT_URL, resource: MCP_URL });
    expect(missing.status).toBe(400);
    // A missing required parameter is invalid_request (RFC 6749 §5.2); a failed check, invalid_grant.
    expect(await missing.json()).toMatchObject({ error: "invalid_request" });
    await expectRefusalEvent(acme, missing, "invalid_request");
  });

  it("refuses a replayed authorization code (invalid_grant) and a code redeemed with another redirect URI", async () => {
    const { client, code, codeVerifier } = await codeFor();
    const redeem = () => tokenRequest({ grant_type: "authorization_code", code, client_id: client.client_id, redirect_uri: REDIRECT_URL, code_verifier: codeVerifier, resource: MCP_URL });
    const first = await redeem();
    expect(first.status).toBe(200);
    const replay = await redeem();
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
    await expectRefusalEvent(acme, replay, "invalid_grant");

    const other = await codeFor();
    const elsewhere = await tokenRequest({
      grant_type: "authorization_code", code: other.code, client_id: other.client.client_id, redirect_uri: "http://127.0.0.1:9/elsewhere", code_verifier: other.codeVerifier, resource: MCP_URL,
    });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses to retarget a code to another resource at the token endpoint (invalid_target)", async () => {
    const { client, code, codeVerifier } = await codeFor();
    const response = await tokenRequest({ grant_type: "authorization_code", code, client_id: client.client_id, redirect_uri: REDIRECT_URL, code_verifier: codeVerifier, resource: `${ORIGIN}/mcp/other` });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_target" });
  });
});

describe("attacks with tokens", () => {
  it("a token of org acme is worthless on org globex", async () => {
    const { tokens } = await tokensFor();
    const response = await callMcp(globex.host, "/mcp/demo", tokens.access_token);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(response.headers.get("www-authenticate")).toContain("https://globex.airlock.localhost/.well-known/oauth-protected-resource/mcp/demo");
    const event = await expectRefusalEvent(globex, response, "credential_wrong_org");
    expect(event.severity_id).toBe(4);
  });

  it("a token for /mcp/demo is refused at /mcp/other and at /llm/openai (audience, RFC 8707)", async () => {
    const { tokens } = await tokensFor();
    const other = await callMcp(acme.host, "/mcp/other", tokens.access_token);
    expect(other.status).toBe(401);
    expect(other.headers.get("www-authenticate")).toMatch(/error="invalid_token", error_description="The access token was issued for https:\/\/acme\.airlock\.localhost\/mcp\/demo/);
    await expectRefusalEvent(acme, other, "credential_wrong_resource");

    const llm = await mesh.request(acme.host, "/llm/openai/v1/chat/completions", { method: "POST", token: tokens.access_token, json: {} });
    expect(llm.status).toBe(401);
    expect(await llm.json()).toMatchObject({ error: { code: "invalid_token", type: "authentication_error" } });
    await expectRefusalEvent(acme, llm, "credential_wrong_resource");

    // Nor is it an admin credential.
    const admin = await mesh.request(acme.host, "/api/v1/me", { token: tokens.access_token });
    expect(admin.status).toBe(401);
  });

  it("an Airlock API key is accepted at /mcp/<server> too; an admin token is not", async () => {
    const key = (await (await acme.api("/api-keys", { method: "POST", json: { name: "agent" } })).json()) as { secret: string };
    expect((await callMcp(acme.host, "/mcp/demo", key.secret)).status).toBe(404);
    const admin = await callMcp(acme.host, "/mcp/demo", acme.ownerToken);
    expect(admin.status).toBe(403);
    expect(admin.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    await expectRefusalEvent(acme, admin, "forbidden");
  });

  it("a tampered or made-up token is refused with invalid_token", async () => {
    const { tokens } = await tokensFor();
    const tampered = tokens.access_token.slice(0, -4) + (tokens.access_token.endsWith("AAAA") ? "BBBB" : "AAAA");
    const response = await callMcp(acme.host, "/mcp/demo", tampered);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    await expectRefusalEvent(acme, response, "invalid_credential");
  });

  it("rotates refresh tokens: once the new one is used, the old one is refused (invalid_grant)", async () => {
    const { client, tokens } = await tokensFor();
    const refresh = (refreshToken: string) => refreshAuthorization(ORIGIN, { metadata, clientInformation: client, refreshToken, resource: MCP_URL, fetchFn: fetchFn() });
    const second = await refresh(tokens.refresh_token!);
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    await refresh(second.refresh_token!);
    const old = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id, resource: MCP_URL });
    expect(old.status).toBe(400);
    expect(await old.json()).toMatchObject({ error: "invalid_grant" });
    await expectRefusalEvent(acme, old, "invalid_grant");
  });

  it("a refresh without `resource` keeps the grant's resource", async () => {
    const { client, tokens } = await tokensFor();
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id });
    expect(refreshed.status).toBe(200);
    const body = await refreshed.json();
    expect(body.resource).toBe(MCP_URL);
    expect((await callMcp(acme.host, "/mcp/demo", body.access_token)).status).toBe(404);
  });
});

describe("revocation", () => {
  it("revokes a refresh token at the client's request (RFC 7009), ending the grant", async () => {
    const { client, tokens } = await tokensFor();
    const revoked = await tokenRequest({ token: tokens.refresh_token!, token_type_hint: "refresh_token", client_id: client.client_id });
    expect(revoked.status).toBe(200);
    const after = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id, resource: MCP_URL });
    expect(await after.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("lets an admin list a user's grants and revoke one: its tokens stop working on the next request", async () => {
    const { client, tokens } = await tokensFor();
    expect((await callMcp(acme.host, "/mcp/demo", tokens.access_token)).status).toBe(404);
    const [user] = ((await (await acme.api(`/users?email=${ADA.email}`)).json()) as { data: { id: string }[] }).data;
    const grants = (await (await acme.api(`/users/${user!.id}/grants`)).json()) as { data: { id: string; client_id: string; client_name: string; resource: string; scope: string[] }[] };
    const grant = grants.data.find((g) => g.client_id === client.client_id)!;
    expect(grant).toMatchObject({ client_name: "Airlock e2e agent", resource: MCP_URL, scope: ["mcp"] });

    expect((await acme.api(`/users/${user!.id}/grants/${grant.id}`, { method: "DELETE" })).status).toBe(204);
    const refused = await callMcp(acme.host, "/mcp/demo", tokens.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
    await expectRefusalEvent(acme, refused, "invalid_credential");
    const refresh = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id, resource: MCP_URL });
    expect(await refresh.json()).toMatchObject({ error: "invalid_grant" });
    expect((await acme.api(`/users/${user!.id}/grants/${grant.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("lets an admin list OAuth clients and delete one with all its grants", async () => {
    const { client, tokens } = await tokensFor();
    const clients = (await (await acme.api("/oauth-clients?limit=200")).json()) as { data: { client_id: string; client_name: string; token_endpoint_auth_method: string }[] };
    expect(clients.data.find((c) => c.client_id === client.client_id)).toMatchObject({ client_name: "Airlock e2e agent", token_endpoint_auth_method: "none" });
    // Another org sees none of them.
    const theirs = (await (await globex.api("/oauth-clients")).json()) as { data: unknown[] };
    expect(theirs.data).toEqual([]);

    expect((await acme.api(`/oauth-clients/${encodeURIComponent(client.client_id)}`, { method: "DELETE" })).status).toBe(204);
    const refresh = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id, resource: MCP_URL });
    expect(refresh.status).toBe(401);
    expect(await refresh.json()).toMatchObject({ error: "invalid_client" });
    expect((await callMcp(acme.host, "/mcp/demo", tokens.access_token)).status).toBe(401);
  });

  it("a user deactivated by an admin loses access on the next request", async () => {
    const { tokens } = await tokensFor();
    const [user] = ((await (await acme.api(`/users?email=${ADA.email}`)).json()) as { data: { id: string }[] }).data;
    await acme.api(`/users/${user!.id}`, { method: "PATCH", json: { status: "deactivated" } });
    try {
      const refused = await callMcp(acme.host, "/mcp/demo", tokens.access_token);
      expect(refused.status).toBe(401);
      await expectRefusalEvent(acme, refused, "user_deactivated");
    } finally {
      await acme.api(`/users/${user!.id}`, { method: "PATCH", json: { status: "active" } });
    }
    expect((await callMcp(acme.host, "/mcp/demo", tokens.access_token)).status).toBe(404);
  });
});

describe("org settings", () => {
  it("turns dynamic client registration off and on", async () => {
    const put = (dynamic_registration: boolean) =>
      acme.api("/oauth-settings", { method: "PUT", json: { dynamic_registration, client_metadata_documents: true, access_token_ttl_seconds: 3600 } });
    expect((await put(false)).status).toBe(200);
    try {
      const off = (await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: fetchFn() }))!;
      expect(off.registration_endpoint).toBeUndefined();
      const refused = await mesh.request(acme.host, "/oauth/register", { method: "POST", json: agentMetadata });
      expect(refused.status).toBe(404);
      await expectRefusalEvent(acme, refused, "access_denied");
      expect(await (await acme.api("/oauth-settings")).json()).toMatchObject({ dynamic_registration: false });
    } finally {
      expect((await put(true)).status).toBe(200);
    }
    expect((await registered()).client_id).toBeTruthy();
  });

  it("answers the consent page's Deny with access_denied to the client", async () => {
    const client = await registered();
    const { authorizationUrl } = await startAuthorization(ORIGIN, { metadata, clientInformation: client, redirectUrl: REDIRECT_URL, resource: MCP_URL, state: "deny-me" });
    const browser = new Browser(mesh);
    const { html, url } = await signIn(browser, authorizationUrl);
    const denied = await browser.submit(url, html, { decision: "deny" });
    expect(denied.status).toBe(302);
    const location = new URL(denied.headers.get("location")!);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: "access_denied", state: "deny-me", iss: ORIGIN });
    await expectRefusalEvent(acme, denied, "consent_denied");
  });

  it("refuses a consent form posted without the browser's binding cookie (CSRF)", async () => {
    const client = await registered();
    const { authorizationUrl } = await startAuthorization(ORIGIN, { metadata, clientInformation: client, redirectUrl: REDIRECT_URL, resource: MCP_URL });
    const { html, url } = await signIn(new Browser(mesh), authorizationUrl);
    const forged = await new Browser(mesh).submit(url, html, { decision: "approve" });
    expect(forged.status).toBe(400);
    expect(forged.headers.get("location")).toBeNull();
  });
});
