import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOAuthUpstream, type OAuthUpstream } from "../fixtures/mcp/oauth-upstream.ts";
import { Browser, meshFetch } from "./browser.ts";
import { startMesh, type Mesh } from "./mesh.ts";

const CLIENT = { clientId: "airlock-at-upstream", clientSecret: "upstream-client-secret-for-tests" };

let mesh: Mesh;
let upstream: OAuthUpstream;
/** Issues access tokens that expire 31 s after issue: inside the gateway's 30 s refresh margin after one second. */
let shortLived: OAuthUpstream;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;
let serverId: string;
const keys: Record<"ada" | "grace" | "bot", string> = { ada: "", grace: "", bot: "" };
const users: Record<"ada" | "grace", string> = { ada: "", grace: "" };

type Answer = { status: number; text(): Promise<string> };
const json = async (response: Answer | Promise<Answer>) => {
  const r = await response;
  const body = await r.text();
  if (r.status >= 400) throw new Error(`${r.status} ${body}`);
  return body ? JSON.parse(body) : null;
};

async function connect(key: string, server = "files") {
  const transport = new StreamableHTTPClientTransport(new URL(`https://${acme.host}/mcp/${server}`), {
    fetch: meshFetch(mesh),
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: "e2e-oauth", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** The MCP error a connect attempt fails with. */
async function refusal(key: string, server = "files"): Promise<McpError> {
  const error = await connect(key, server).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

/** The user's browser follows the connect URL: Airlock → upstream /authorize → Airlock callback. */
async function connectAccount(connectUrl: string, account: string, at: OAuthUpstream = upstream) {
  at.state.account = account;
  const { response, url } = await new Browser(mesh).follow(connectUrl);
  return { status: response.status, url, html: await response.text() };
}

async function whoami(client: Client) {
  const result = await client.callTool({ name: "whoami", arguments: {} });
  return (result.content as { text: string }[])[0]!.text;
}

beforeAll(async () => {
  [mesh, upstream, shortLived] = await Promise.all([startMesh(), startOAuthUpstream(CLIENT), startOAuthUpstream({ ...CLIENT, accessTtlSeconds: 31 })]);
  acme = await mesh.createOrg("acme");
  for (const name of ["ada", "grace"] as const) {
    users[name] = (await json(acme.api("/users", { method: "POST", json: { email: `${name}@acme.test` } }))).id;
    keys[name] = (await json(acme.api("/api-keys", { method: "POST", json: { name, user_id: users[name] } }))).secret;
  }
  keys.bot = (await json(acme.api("/api-keys", { method: "POST", json: { name: "bot" } }))).secret;
  const server = await json(acme.api("/mcp-servers", {
    method: "POST",
    json: { name: "files", url: upstream.url, auth_mode: "oauth", oauth: { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, scopes: ["files:read"] } },
  }));
  serverId = server.id;
}, 60_000);

afterAll(async () => {
  await mesh?.close();
  await upstream?.close();
  await shortLived?.close();
});

describe("per-user upstream OAuth", () => {
  it("registers an oauth server without ever returning its client secret", async () => {
    const server = await json(acme.api(`/mcp-servers/${serverId}`));
    expect(server).toMatchObject({ auth_mode: "oauth", oauth: { client_id: CLIENT.clientId, scopes: ["files:read"], authorization_endpoint: null } });
    expect(JSON.stringify(server)).not.toContain(CLIENT.clientSecret);
    const missing = await acme.api("/mcp-servers", { method: "POST", json: { name: "nope", url: upstream.url, auth_mode: "oauth" } });
    expect(missing.status).toBe(422);
    const unsafe = await acme.api("/mcp-servers", {
      method: "POST",
      json: { name: "unsafe", url: upstream.url, auth_mode: "oauth", oauth: { client_id: "x", authorization_endpoint: "ftp://127.0.0.1/a", token_endpoint: `${upstream.base}/token` } },
    });
    expect(unsafe.status).toBe(422);
    expect(await unsafe.text()).toContain("oauth.authorization_endpoint");
    // Refused before anything was written.
    expect((await json(acme.api("/mcp-servers"))).data.map((s: { name: string }) => s.name)).toEqual(["files"]);
  });

  it("connect required → the user connects in a browser → calls carry the user's own upstream token", async () => {
    const error = await refusal(keys.ada);
    expect(error.code).toBe(-32006);
    expect(error.message).toContain("connect required");
    const connectUrl = (error.data as { connect_url: string }).connect_url;
    expect(connectUrl).toMatch(/^https:\/\/acme\.airlock\.localhost\/mcp-connect\/start\?ticket=/);

    const page = await connectAccount(connectUrl, "ada-upstream");
    expect(page.status).toBe(200);
    expect(page.url.pathname).toBe("/mcp-connect/callback");
    expect(page.html).toContain("Connected");
    const sent = upstream.state.authorizeRequests.at(-1)!;
    expect(sent.get("code_challenge_method")).toBe("S256");
    expect(sent.get("resource")).toBe(upstream.url);
    expect(sent.get("scope")).toBe("files:read");

    const client = await connect(keys.ada);
    expect(await whoami(client)).toBe("account:ada-upstream");
    const last = upstream.state.seen.at(-1)!;
    expect(last.account).toBe("ada-upstream");
    expect(last.token).not.toBe(keys.ada);
    expect(upstream.state.seen.every((s) => s.token !== keys.ada)).toBe(true);
    await client.close();

    // The callback's state is single use: replaying it connects nothing.
    const replay = await new Browser(mesh).fetch(page.url);
    expect(replay.status).toBe(400);
  });

  it("another user never gets someone else's upstream token", async () => {
    const error = await refusal(keys.grace);
    expect(error.code).toBe(-32006);
    const page = await connectAccount((error.data as { connect_url: string }).connect_url, "grace-upstream");
    expect(page.status).toBe(200);
    const [ada, grace] = [await connect(keys.ada), await connect(keys.grace)];
    expect(await whoami(grace)).toBe("account:grace-upstream");
    expect(await whoami(ada)).toBe("account:ada-upstream");
    await Promise.all([ada.close(), grace.close()]);
  });

  it("a virtual server's OAuth member carries each user's own token", async () => {
    await json(acme.api("/mcp-virtual-servers", { method: "POST", json: { name: "workspace", members: [{ server: "files" }] } }));
    const transport = new StreamableHTTPClientTransport(new URL(`https://${acme.host}/mcp/workspace`), {
      fetch: meshFetch(mesh), requestInit: { headers: { authorization: `Bearer ${keys.grace}` } },
    });
    const client = new Client({ name: "e2e-oauth", version: "1.0.0" });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["files__whoami"]);
    const result = await client.callTool({ name: "files__whoami", arguments: {} });
    expect((result.content as { text: string }[])[0]!.text).toBe("account:grace-upstream");
    await client.close();
    // A credential with no user is refused for the member too.
    const error = await connect(keys.bot, "workspace").then(() => null, (e: unknown) => e);
    expect((error as McpError).code).toBe(-32006);
  });

  it("an API key bound to no user cannot connect", async () => {
    const error = await refusal(keys.bot);
    expect(error.code).toBe(-32006);
    expect(error.message).toContain("bound to no user");
    expect(error.data).toBeUndefined();
    // The request's event says why it stopped.
    const response = await mesh.request(acme.host, "/mcp/files", {
      method: "POST", token: keys.bot, headers: { accept: "application/json, text/event-stream" },
      json: { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32006);
    const event = await mesh.auditEventOf(acme, response.headers.get("x-request-id")!);
    expect(event.airlock).toMatchObject({ reason: "connect_required" });
  });

  it("an expired upstream token is refreshed transparently, rotating the refresh token", async () => {
    const client = await connect(keys.ada);
    const refreshes = upstream.state.grants.refresh_token;
    upstream.expireAccessTokens();
    expect(await whoami(client)).toBe("account:ada-upstream");
    expect(upstream.state.grants.refresh_token).toBe(refreshes + 1);
    upstream.expireAccessTokens();
    // The rotated refresh token was stored: a second expiry refreshes again.
    expect(await whoami(client)).toBe("account:ada-upstream");
    expect(upstream.state.grants.refresh_token).toBe(refreshes + 2);
    await client.close();
  });

  it("a token about to expire is refreshed before the call, with explicit endpoints instead of discovery", async () => {
    await json(acme.api("/mcp-servers", {
      method: "POST",
      json: {
        name: "short", url: shortLived.url, auth_mode: "oauth",
        oauth: { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, authorization_endpoint: `${shortLived.base}/authorize`, token_endpoint: `${shortLived.base}/token` },
      },
    }));
    const error = await refusal(keys.ada, "short");
    expect((await connectAccount((error.data as { connect_url: string }).connect_url, "ada-short", shortLived)).status).toBe(200);
    const client = await connect(keys.ada, "short");
    expect(await whoami(client)).toBe("account:ada-short");
    expect(shortLived.state.grants.refresh_token).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await whoami(client)).toBe("account:ada-short");
    expect(shortLived.state.grants.refresh_token).toBe(1);
    // Refreshed ahead of expiry: the upstream never had to refuse a token.
    expect(shortLived.state.seen.every((s) => s.account === "ada-short")).toBe(true);
    await client.close();
  });

  it("a refused refresh means connect required again", async () => {
    const client = await connect(keys.grace);
    upstream.expireAccessTokens("grace-upstream");
    upstream.revokeRefreshTokens("grace-upstream");
    const error = await client.callTool({ name: "whoami", arguments: {} }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32006);
    expect(((error as McpError).data as { connect_url: string }).connect_url).toContain("/mcp-connect/start?ticket=");
    await client.close();
  });

  it("lists and revokes the user's own connections; revoked means connect required again", async () => {
    const mine = await json(mesh.request(acme.host, "/api/v1/mcp-connections", { token: keys.ada }));
    expect(mine.data).toEqual([
      expect.objectContaining({ server_id: serverId, server_name: "files", user_id: users.ada }),
      expect.objectContaining({ server_name: "short", user_id: users.ada }),
    ]);
    expect(JSON.stringify(mine)).not.toMatch(/at_|rt_/);
    const others = await mesh.request(acme.host, `/api/v1/mcp-connections?user_id=${users.grace}`, { token: keys.ada });
    expect(others.status).toBe(403);

    // A warm gateway holds the opened token; the revocation must still take effect at once.
    const warm = await connect(keys.ada);
    expect(await whoami(warm)).toBe("account:ada-upstream");
    expect(await whoami(warm)).toBe("account:ada-upstream");
    const revoked = await mesh.request(acme.host, `/api/v1/mcp-connections/${serverId}`, { method: "DELETE", token: keys.ada });
    expect(revoked.status).toBe(204);
    // …and at the upstream (RFC 7009), so the grant does not outlive the connection.
    expect(upstream.state.revoked).toEqual(["refresh_token:ada-upstream"]);
    expect((await json(mesh.request(acme.host, "/api/v1/mcp-connections", { token: keys.ada }))).data.map((c: { server_name: string }) => c.server_name)).toEqual(["short"]);
    // An admin sees every user's connections.
    const all = await json(acme.api("/mcp-connections"));
    expect(all.data.map((c: { user_id: string; server_name: string }) => `${c.user_id === users.ada ? "ada" : "other"}/${c.server_name}`).sort()).toEqual(["ada/short"]);
    const again = await refusal(keys.ada);
    expect(again.code).toBe(-32006);
    // A connect link works only on the org that issued it, and only as issued.
    const link = new URL((again.data as { connect_url: string }).connect_url);
    await mesh.createOrg("globex");
    const elsewhere = await new Browser(mesh).fetch(`https://globex.airlock.localhost${link.pathname}${link.search}`);
    expect(elsewhere.status).toBe(400);
    link.searchParams.set("ticket", `${link.searchParams.get("ticket")!.slice(0, -4)}AAAA`);
    expect((await new Browser(mesh).fetch(link)).status).toBe(400);
    const seen = upstream.state.seen.length;
    const stale = await warm.callTool({ name: "whoami", arguments: {} }).then(() => null, (e: unknown) => e);
    expect((stale as McpError).code).toBe(-32006);
    // Refused by the gateway itself: the revoked token was not even tried upstream.
    expect(upstream.state.seen.length).toBe(seen);
    await warm.close();
  });

  it("moving a server to another URL forgets its users' tokens (never sent to a different upstream)", async () => {
    const short = (await json(acme.api("/mcp-servers"))).data.find((s: { name: string }) => s.name === "short");
    const seen = shortLived.state.seen.length;
    await json(acme.api(`/mcp-servers/${short.id}`, { method: "PATCH", json: { url: `${shortLived.url}?moved=1` } }));
    expect((await json(mesh.request(acme.host, "/api/v1/mcp-connections", { token: keys.ada }))).data).toEqual([]);
    expect((await refusal(keys.ada, "short")).code).toBe(-32006);
    expect(shortLived.state.seen.length).toBe(seen);
  });
});
