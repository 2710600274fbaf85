import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, startMesh, type Mesh } from "./mesh.ts";

let mesh: Mesh;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;
let globex: Awaited<ReturnType<Mesh["createOrg"]>>;

beforeAll(async () => {
  mesh = await startMesh();
  [acme, globex] = await Promise.all([mesh.createOrg("acme"), mesh.createOrg("globex")]);
});
afterAll(() => mesh?.close());

describe("tenancy", () => {
  it("answers an unknown org with 404 problem+json", async () => {
    const res = await mesh.request(`initech.${BASE}`, "/api/v1/teams", { token: acme.ownerToken });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "unknown_org", status: 404, request_id: res.headers.get("x-request-id") });
  });

  it("answers a host outside the base domain with 404 problem+json", async () => {
    const res = await mesh.request("acme.example.com", "/api/v1/teams", { token: acme.ownerToken });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
  });

  it("refuses org A's credential on org B's host with 401, and B's audit log says why", async () => {
    const res = await mesh.request(globex.host, "/api/v1/teams", { token: acme.ownerToken });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await res.json()).toMatchObject({ code: "credential_wrong_org" });

    const event = await mesh.auditEventOf(globex, res.headers.get("x-request-id")!);
    expect(event).toMatchObject({
      status_id: 2,
      status_code: "credential_wrong_org",
      severity_id: 4,
      airlock: { org_slug: "globex", decision: "deny", reason: "credential_wrong_org" },
    });
    // B's log does not learn which credential of A was tried.
    expect(JSON.stringify(event)).not.toContain(acme.id);
  });

  it("shows each org only its own resources", async () => {
    await acme.api("/teams", { method: "POST", json: { name: "acme-only" } });
    const acmeTeams = (await (await acme.api("/teams")).json()) as { data: { id: string; name: string }[] };
    const acmeTeam = acmeTeams.data.find((t) => t.name === "acme-only")!;
    expect(acmeTeam).toBeDefined();

    const globexTeams = (await (await globex.api("/teams")).json()) as { data: unknown[] };
    expect(globexTeams.data).toEqual([]);
    const direct = await globex.api(`/teams/${acmeTeam.id}`);
    expect(direct.status).toBe(404);
    const rename = await globex.api(`/teams/${acmeTeam.id}`, { method: "PATCH", json: { name: "stolen" } });
    expect(rename.status).toBe(404);
    const remove = await globex.api(`/teams/${acmeTeam.id}`, { method: "DELETE" });
    expect(remove.status).toBe(404);
    expect((await acme.api(`/teams/${acmeTeam.id}`)).status).toBe(200);
  });

  it("keeps audit logs apart", async () => {
    const res = await acme.api("/users");
    await mesh.auditEventOf(acme, res.headers.get("x-request-id")!);
    const fromGlobex = (await (await globex.api(`/audit-events?request_id=${res.headers.get("x-request-id")}`)).json()) as { data: unknown[] };
    expect(fromGlobex.data).toEqual([]);
  });
});
