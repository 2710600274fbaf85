import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMesh, type Mesh } from "./mesh.ts";

let mesh: Mesh;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;
type Answer = { json(): Promise<unknown> };
const json = async <T = any>(res: Answer | Promise<Answer>) => (await (await res).json()) as T;

beforeAll(async () => {
  mesh = await startMesh();
  acme = await mesh.createOrg("acme");
});
afterAll(() => mesh?.close());

describe("users, teams and memberships", () => {
  it("create, read, update and delete with memberships kept consistent", async () => {
    const ada = await json(acme.api("/users", { method: "POST", json: { email: "ada@acme.test", name: "Ada" } }));
    const team = await json(acme.api("/teams", { method: "POST", json: { name: "data", description: "Data platform" } }));
    expect(await json(acme.api(`/teams/${team.id}/members/${ada.id}`, { method: "PUT" }))).toMatchObject({ user_id: ada.id, email: "ada@acme.test" });
    // Adding twice is harmless.
    expect((await acme.api(`/teams/${team.id}/members/${ada.id}`, { method: "PUT" })).status).toBe(200);

    expect(await json(acme.api(`/teams/${team.id}`))).toMatchObject({ name: "data", member_count: 1 });
    expect(await json(acme.api(`/users/${ada.id}`))).toMatchObject({ teams: [{ id: team.id, name: "data" }] });
    expect(await json(acme.api(`/teams/${team.id}/members`))).toMatchObject({ data: [{ user_id: ada.id }], next_cursor: null });

    const renamed = await json(acme.api(`/teams/${team.id}`, { method: "PATCH", json: { name: "data-eng", description: null } }));
    expect(renamed).toMatchObject({ name: "data-eng", description: null });

    expect((await acme.api(`/teams/${team.id}/members/${ada.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await acme.api(`/teams/${team.id}/members/${ada.id}`, { method: "DELETE" })).status).toBe(404);

    await acme.api(`/teams/${team.id}/members/${ada.id}`, { method: "PUT" });
    const key = await json(acme.api("/api-keys", { method: "POST", json: { name: "ada", user_id: ada.id } }));
    expect((await acme.api(`/users/${ada.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await acme.api(`/users/${ada.id}`)).status).toBe(404);
    expect(await json(acme.api(`/teams/${team.id}`))).toMatchObject({ member_count: 0 });
    expect((await mesh.request(acme.host, "/api/v1/me", { token: key.secret })).status).toBe(401);

    expect((await acme.api(`/teams/${team.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await acme.api(`/teams/${team.id}`)).status).toBe(404);
  });

  it("paginate with cursors that visit every item once", async () => {
    const names = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const name of names) await acme.api("/teams", { method: "POST", json: { name } });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { data: { name: string }[]; next_cursor: string | null } = await json(acme.api(`/teams?limit=3${cursor ? `&cursor=${cursor}` : ""}`));
      seen.push(...page.data.map((t) => t.name));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(seen.filter((n) => n.startsWith("page-")).sort()).toEqual(names);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it("filters users by email", async () => {
    await acme.api("/users", { method: "POST", json: { email: "grace@acme.test" } });
    const page = await json(acme.api("/users?email=Grace@acme.test"));
    expect(page.data).toHaveLength(1);
    expect(page.data[0].email).toBe("grace@acme.test");
  });
});

describe("OpenAPI", () => {
  it("serves one OpenAPI 3.1 document for every admin resource, generated from the schemas", async () => {
    const doc = await json(mesh.request(acme.host, "/api/v1/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/admin-tokens", "/admin-tokens/{id}", "/api-keys", "/api-keys/{id}", "/audit-events", "/me", "/teams", "/teams/{id}",
        "/teams/{id}/members", "/teams/{id}/members/{user_id}", "/users", "/users/{id}", "/guardrails/scan", "/guardrails/rules", "/guardrails/rules/{id}"]),
    );
    // Every operation documents its errors as problem+json.
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        expect(operation.responses["401"]?.content?.["application/problem+json"], `${method} ${path}`).toBeDefined();
      }
    }
    expect(doc.components.schemas.CreateTeam).toMatchObject({ type: "object", additionalProperties: false, required: ["name"] });
    expect(doc.paths["/teams"].post.responses["422"].content["application/problem+json"]).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer" });
  });

  it("documents the operator API on the operator host", async () => {
    const doc = await json(mesh.operator("/v1/openapi.json"));
    expect(Object.keys(doc.paths).sort()).toEqual(["/orgs", "/orgs/{slug}", "/orgs/{slug}/admin-tokens"]);
  });
});
