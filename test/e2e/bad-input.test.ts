import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, startMesh, type Mesh, type MeshInit } from "./mesh.ts";

let mesh: Mesh;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  mesh = await startMesh({ maxBodyBytes: LIMIT });
  acme = await mesh.createOrg("acme");
});
afterAll(() => mesh?.close());

/** Every refusal is problem+json with a stable code, the request id, and no stack trace. */
async function expectProblem(res: Awaited<ReturnType<Mesh["request"]>>, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: expect.stringContaining(code.replaceAll("_", "-")), detail: expect.any(String) });
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body;
}

const post = (path: string, init: MeshInit) => acme.api(path, { method: "POST", ...init });

describe("bad input", () => {
  it("malformed JSON → 400 malformed_json", async () => {
    await expectProblem(await post("/teams", { body: '{"name": "sre",', headers: { "content-type": "application/json" } }), 400, "malformed_json");
  });

  it("wrong content type → 415", async () => {
    await expectProblem(await post("/teams", { body: "name=sre", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type");
    await expectProblem(await post("/teams", { body: '{"name":"sre"}', headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
  });

  it("unknown fields → 422 naming the field", async () => {
    const body = await expectProblem(await post("/teams", { json: { name: "sre", owner: "me" } }), 422, "validation_failed");
    expect(JSON.stringify(body.errors)).toContain("owner");
  });

  it("invalid values → 422 with the path of each problem, never echoing the value", async () => {
    const body = await expectProblem(await post("/users", { json: { email: "not-an-email-SECRETVALUE" } }), 422, "validation_failed");
    expect(body.errors).toEqual([expect.objectContaining({ path: "email" })]);
    expect(JSON.stringify(body)).not.toContain("SECRETVALUE");
  });

  it("a missing body where one is required → 422", async () => {
    await expectProblem(await post("/teams", {}), 422, "validation_failed");
  });

  it("an expiry in the past → 422", async () => {
    await expectProblem(await post("/api-keys", { json: { name: "old", expires_at: "2020-01-01T00:00:00Z" } }), 422, "validation_failed");
  });

  it("an oversized body → 413, whether declared or streamed", async () => {
    const big = JSON.stringify({ name: "sre", description: "x".repeat(LIMIT) });
    await expectProblem(await post("/teams", { body: big, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
    // Chunked, with no Content-Length to trust: counted as it streams.
    const chunks = [new TextEncoder().encode(big.slice(0, LIMIT / 2)), new TextEncoder().encode(big.slice(LIMIT / 2))];
    const stream = new ReadableStream<Uint8Array>({ pull: (controller) => { const next = chunks.shift(); if (next) controller.enqueue(next); else controller.close(); } });
    await expectProblem(await post("/teams", { body: stream, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
  });

  it("a bad query or cursor → 400 invalid_request", async () => {
    await expectProblem(await acme.api("/teams?limit=0"), 400, "invalid_request");
    await expectProblem(await acme.api("/teams?cursor=not-a-cursor"), 400, "invalid_request");
  });

  it("missing credential → 401 unauthenticated with a Bearer challenge", async () => {
    const res = await mesh.request(acme.host, "/api/v1/teams");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    await expectProblem(res, 401, "unauthenticated");
  });

  it("malformed credentials → 401", async () => {
    await expectProblem(await mesh.request(acme.host, "/api/v1/teams", { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } }), 401, "invalid_credential");
    await expectProblem(await mesh.request(acme.host, "/api/v1/teams", { token: "sk-not-airlock" }), 401, "invalid_credential");
    await expectProblem(await mesh.request(acme.host, "/api/v1/teams", { token: `alk_adm_${"0".repeat(26)}_${"A".repeat(43)}` }), 401, "invalid_credential");
  });

  it("unknown resources and ids → 404", async () => {
    await expectProblem(await acme.api("/nothing-here"), 404, "not_found");
    await expectProblem(await acme.api("/users/01JAAAAAAAAAAAAAAAAAAAAAAA"), 404, "not_found");
    await expectProblem(await mesh.request(acme.host, "/elsewhere"), 404, "not_found");
  });

  it("duplicates → 409", async () => {
    expect((await post("/teams", { json: { name: "dup" } })).status).toBe(201);
    await expectProblem(await post("/teams", { json: { name: "dup" } }), 409, "conflict");
    expect((await post("/users", { json: { email: "dup@acme.test" } })).status).toBe(201);
    await expectProblem(await post("/users", { json: { email: "DUP@acme.test" } }), 409, "conflict");
  });

  it("no refusal above was a 500, and the mesh still answers", async () => {
    const health = await mesh.request(`api.${BASE}`, "/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
  });
});
