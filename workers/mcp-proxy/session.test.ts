import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { carriedInit, MAX_CARRIED_INIT_CHARS, openSession, sealSession, sessionTag, type SessionState } from "./session.ts";

const { MASTER_KEY } = env as unknown as { MASTER_KEY: string };
const state: SessionState = { p: "usr_alice", n: "github", u: { github: "upstream-session-1" }, i: { protocolVersion: "2025-06-18" } };

/** Flips one character of the sealed part, keeping it valid base64url. */
const tamper = (id: string, at: number) => id.slice(0, at) + (id[at] === "A" ? "B" : "A") + id.slice(at + 1);

describe("sealed Mcp-Session-Id", () => {
  it("round-trips the principal, server, upstream sessions and initialize params", async () => {
    const id = await sealSession(MASTER_KEY, "org_a", state);
    expect(id).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    expect(id).not.toContain("usr_alice");
    expect((await openSession(MASTER_KEY, "org_a", id))?.state).toEqual(state);
  });

  it("opens every id it issues: the largest initialize params a session carries still fit", async () => {
    const params = (description: string) => carriedInit({ protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "agent", version: "1", description } });
    const init = params("x".repeat(MAX_CARRIED_INIT_CHARS - JSON.stringify(params("")).length));
    expect(JSON.stringify(init).length).toBe(MAX_CARRIED_INIT_CHARS);
    const big = { ...state, u: { a: "s".repeat(64), b: "s".repeat(64), c: "s".repeat(64) }, i: init };
    expect((await openSession(MASTER_KEY, "org_a", await sealSession(MASTER_KEY, "org_a", big)))?.state).toEqual(big);
  });

  it("refuses to issue an id it could not open again, instead of overflowing", async () => {
    await expect(sealSession(MASTER_KEY, "org_a", { ...state, i: { blob: "x".repeat(400_000) } })).rejects.toThrow(/too large/);
  });

  it("carries only what a legacy upstream's re-initialise needs of the client's params", () => {
    expect(carriedInit({ protocolVersion: "2025-03-26", capabilities: { sampling: {} }, clientInfo: { name: "c", version: "1" }, _meta: { big: "…" } })).toEqual({
      protocolVersion: "2025-03-26",
      capabilities: { sampling: {} },
      clientInfo: { name: "c", version: "1" },
    });
  });

  it("issues a different id each time for the same state", async () => {
    const [a, b] = await Promise.all([sealSession(MASTER_KEY, "org_a", state), sealSession(MASTER_KEY, "org_a", state)]);
    expect(a).not.toBe(b);
  });

  it("refuses an id sealed for another org, also once its own org has opened it", async () => {
    const id = await sealSession(MASTER_KEY, "org_a", state);
    expect(await openSession(MASTER_KEY, "org_b", id)).toBeNull();
    expect(await openSession(MASTER_KEY, "org_a", id)).not.toBeNull();
    expect(await openSession(MASTER_KEY, "org_b", id)).toBeNull();
  });

  it("tags a session the same way on every request, without the id itself", async () => {
    const id = await sealSession(MASTER_KEY, "org_a", state);
    const tag = await sessionTag(id);
    expect(tag).toMatch(/^[0-9a-f]{16}$/);
    expect((await openSession(MASTER_KEY, "org_a", id))?.tag).toBe(tag);
    expect((await openSession(MASTER_KEY, "org_a", id))?.tag).toBe(tag);
  });

  it("refuses a tampered id, wherever the change is", async () => {
    const id = await sealSession(MASTER_KEY, "org_a", state);
    // The last character may carry only padding bits, so the changes stop one short of it.
    for (const at of [3, 10, Math.floor(id.length / 2), id.length - 2]) {
      expect(await openSession(MASTER_KEY, "org_a", tamper(id, at))).toBeNull();
    }
    expect(await openSession(MASTER_KEY, "org_a", id.slice(0, -4))).toBeNull();
  });

  it("refuses ids it did not issue: other prefixes, garbage, empty and oversized ones", async () => {
    const id = await sealSession(MASTER_KEY, "org_a", state);
    for (const bad of [id.replace(/^s1\./, "s2."), id.slice(3), "s1.", "s1.!!!not-base64!!!", "", `s1.${"A".repeat(9000)}`, "upstream-session-1"]) {
      expect(await openSession(MASTER_KEY, "org_a", bad)).toBeNull();
    }
  });
});
