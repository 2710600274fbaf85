import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMesh, type Mesh } from "./mesh.ts";

let mesh: Mesh;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;

beforeAll(async () => {
  mesh = await startMesh();
  acme = await mesh.createOrg("acme");
});
afterAll(() => mesh?.close());

type Answer = { json(): Promise<unknown> };
const json = async <T = any>(res: Answer | Promise<Answer>) => (await (await res).json()) as T;

describe("API keys for agents", () => {
  it("identify the user, their teams and the agent, and are shown once", async () => {
    const user = await json(acme.api("/users", { method: "POST", json: { email: "Ada@Acme.test", name: "Ada" } }));
    const team = await json(acme.api("/teams", { method: "POST", json: { name: "sre" } }));
    expect((await acme.api(`/teams/${team.id}/members/${user.id}`, { method: "PUT" })).status).toBe(200);

    const created = await acme.api("/api-keys", { method: "POST", json: { name: "laptop", user_id: user.id } });
    expect(created.status).toBe(201);
    const key = await json(created);
    expect(key.secret).toMatch(/^alk_key_/);

    const me = await mesh.request(acme.host, "/api/v1/me", { token: key.secret, headers: { "user-agent": "claude-cli/2.0.14 (external, cli)" } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      kind: "api_key", org_slug: "acme", user_id: user.id, email: "ada@acme.test",
      teams: [{ id: team.id, name: "sre" }], roles: [], client: { name: "claude-code", version: "2.0.14" },
    });

    const listed = await json(acme.api("/api-keys"));
    expect(JSON.stringify(listed)).not.toContain(key.secret);
    const fetched = await json(acme.api(`/api-keys/${key.id}`));
    expect(fetched).not.toHaveProperty("secret");
    expect(fetched.hint).toBe(`${key.secret.slice(0, 8)}…${key.secret.slice(-4)}`);
  });

  it("stop working on the next request once revoked", async () => {
    const key = await json(acme.api("/api-keys", { method: "POST", json: { name: "ci" } }));
    expect((await mesh.request(acme.host, "/api/v1/me", { token: key.secret })).status).toBe(200);

    expect((await acme.api(`/api-keys/${key.id}`, { method: "DELETE" })).status).toBe(204);
    const after = await mesh.request(acme.host, "/api/v1/me", { token: key.secret });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: "credential_revoked" });
    expect(await json(acme.api(`/api-keys/${key.id}`))).toMatchObject({ revoked_at: expect.any(String) });
  });

  it("expire at their expiry time", async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const key = await json(acme.api("/api-keys", { method: "POST", json: { name: "short", expires_at: expiresAt } }));
    expect((await mesh.request(acme.host, "/api/v1/me", { token: key.secret })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const after = await mesh.request(acme.host, "/api/v1/me", { token: key.secret });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: "credential_expired" });
  });

  it("stop working when their user is deactivated, and work again on reactivation", async () => {
    const user = await json(acme.api("/users", { method: "POST", json: { email: "leaver@acme.test" } }));
    const key = await json(acme.api("/api-keys", { method: "POST", json: { name: "leaver", user_id: user.id } }));
    expect((await mesh.request(acme.host, "/api/v1/me", { token: key.secret })).status).toBe(200);

    await acme.api(`/users/${user.id}`, { method: "PATCH", json: { status: "deactivated" } });
    const refused = await mesh.request(acme.host, "/api/v1/me", { token: key.secret });
    expect(await refused.json()).toMatchObject({ code: "user_deactivated" });

    await acme.api(`/users/${user.id}`, { method: "PATCH", json: { status: "active" } });
    expect((await mesh.request(acme.host, "/api/v1/me", { token: key.secret })).status).toBe(200);
  });

  it("cannot use the admin API", async () => {
    const key = await json(acme.api("/api-keys", { method: "POST", json: { name: "agent" } }));
    const res = await mesh.request(acme.host, "/api/v1/teams", { token: key.secret });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "forbidden" });
  });
});

describe("admin tokens", () => {
  it("let auditors read and nothing else", async () => {
    const auditor = await json(acme.api("/admin-tokens", { method: "POST", json: { name: "soc", role: "auditor" } }));
    const read = await mesh.request(acme.host, "/api/v1/users", { token: auditor.secret });
    expect(read.status).toBe(200);
    const audit = await mesh.request(acme.host, "/api/v1/audit-events", { token: auditor.secret });
    expect(audit.status).toBe(200);
    const write = await mesh.request(acme.host, "/api/v1/teams", { token: auditor.secret, method: "POST", json: { name: "nope" } });
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ code: "read_only_role" });
  });

  it("let admins mint admin and auditor tokens but not owner tokens", async () => {
    const admin = await json(acme.api("/admin-tokens", { method: "POST", json: { name: "ops", role: "admin" } }));
    const asAdmin = (body: unknown) =>
      mesh.request(acme.host, "/api/v1/admin-tokens", { token: admin.secret, method: "POST", json: body });
    expect((await asAdmin({ name: "x", role: "auditor" })).status).toBe(201);
    const owner = await asAdmin({ name: "y", role: "owner" });
    expect(owner.status).toBe(403);
    expect(await owner.json()).toMatchObject({ code: "forbidden" });
  });

  it("stop working once revoked, even the one in use", async () => {
    const admin = await json(acme.api("/admin-tokens", { method: "POST", json: { name: "temp", role: "admin" } }));
    const self = await mesh.request(acme.host, `/api/v1/admin-tokens/${admin.id}`, { token: admin.secret, method: "DELETE" });
    expect(self.status).toBe(204);
    const after = await mesh.request(acme.host, "/api/v1/teams", { token: admin.secret });
    expect(await after.json()).toMatchObject({ code: "credential_revoked" });
  });
});

describe("operator API", () => {
  it("needs the operator token", async () => {
    const none = await mesh.operator("/v1/orgs", { token: "" });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: "unauthenticated" });
    const wrong = await mesh.operator("/v1/orgs", { token: acme.ownerToken });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "invalid_credential" });
  });

  it("lists orgs, refuses a duplicate slug and the reserved one", async () => {
    const list = await json(mesh.operator("/v1/orgs"));
    expect(list.data.map((o: { slug: string }) => o.slug)).toContain("acme");
    const dup = await mesh.operator("/v1/orgs", { method: "POST", json: { slug: "acme", name: "again" } });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ code: "conflict" });
    const reserved = await mesh.operator("/v1/orgs", { method: "POST", json: { slug: "api", name: "api" } });
    expect(reserved.status).toBe(422);
  });

  it("is not reachable from an org's host", async () => {
    const res = await mesh.request(acme.host, "/v1/orgs", { token: acme.ownerToken });
    expect(res.status).toBe(404);
  });
});
