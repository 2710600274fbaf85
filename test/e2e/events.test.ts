import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMesh, type Mesh } from "./mesh.ts";

let mesh: Mesh;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;

beforeAll(async () => {
  mesh = await startMesh();
  acme = await mesh.createOrg("acme");
});
afterAll(() => mesh?.close());

/** Every compact JSON line the Workers logged for a request id. */
function eventLinesOf(requestId: string) {
  return mesh.server
    .getLogs()
    .map((log) => log.message)
    .filter((message) => message.startsWith("{") && message.includes(requestId))
    .map((message) => JSON.parse(message) as Record<string, any>)
    .filter((event) => event.metadata?.correlation_uid === requestId);
}

describe("events", () => {
  it("every request logs exactly one compact OCSF line and reaches the audit log", async () => {
    const res = await acme.api("/teams", { method: "POST", json: { name: "platform" }, headers: { "user-agent": "curl/8.5.0" } });
    const requestId = res.headers.get("x-request-id")!;
    const audited = await mesh.auditEventOf(acme, requestId);

    const lines = eventLinesOf(requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual(audited);
    expect(audited).toMatchObject({
      class_uid: 6003, category_uid: 6, activity_id: 1, type_uid: 600301, status_id: 1, severity_id: 1,
      metadata: { correlation_uid: requestId, tenant_uid: acme.id, product: { name: "Airlock" } },
      http_request: { http_method: "POST", url: { hostname: acme.host, path: "/api/v1/teams" } },
      http_response: { code: 201 },
      api: { operation: "admin.teams" },
      actor: { app_name: "curl" },
      airlock: { org_slug: "acme", decision: "allow", credential_kind: "admin_token", roles: ["owner"], client: { name: "curl", version: "8.5.0" } },
    });
  });

  it("refusals are events too, and no token or secret ever appears in one", async () => {
    const created = await acme.api("/api-keys", { method: "POST", json: { name: "leaky" } });
    const { secret } = (await created.json()) as { secret: string };
    const listed = await acme.api("/api-keys?limit=1");
    const bad = await acme.api("/teams", { method: "POST", json: { name: "x", extra: true } });
    const wrong = await mesh.request(acme.host, "/api/v1/me", { token: secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A") });
    expect(wrong.status).toBe(401);

    const refusal = await mesh.auditEventOf(acme, wrong.headers.get("x-request-id")!);
    expect(refusal).toMatchObject({ status_id: 2, severity_id: 3, airlock: { decision: "deny", reason: "invalid_credential" } });
    const invalid = await mesh.auditEventOf(acme, bad.headers.get("x-request-id")!);
    expect(invalid).toMatchObject({ status_id: 2, airlock: { reason: "validation_failed" } });
    await mesh.auditEventOf(acme, listed.headers.get("x-request-id")!);

    const everything = mesh.server.getLogs().map((log) => log.message).join("\n");
    for (const value of [secret, secret.slice(-43), acme.ownerToken, acme.ownerToken.slice(-43)]) expect(everything).not.toContain(value);
    const audit = JSON.stringify(await (await acme.api("/audit-events?limit=200")).json());
    for (const value of [secret, secret.slice(-43), acme.ownerToken]) expect(audit).not.toContain(value);
  });

  it("pages through the audit log newest first", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await acme.api("/users")).headers.get("x-request-id")!);
    await mesh.auditEventOf(acme, ids.at(-1)!);
    await mesh.auditEventOf(acme, ids[0]!);
    const first = (await (await acme.api("/audit-events?limit=2")).json()) as { data: any[]; next_cursor: string };
    const second = (await (await acme.api(`/audit-events?limit=2&cursor=${first.next_cursor}`)).json()) as { data: any[] };
    const times = [...first.data, ...second.data].map((e) => e.metadata.uid as string);
    expect(times).toEqual([...times].sort().reverse());
    expect(new Set(times).size).toBe(4);
  });
});
