import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database, schema } from "../../shared/db/index.ts";
import { apiActivityEvent } from "../../shared/events.ts";
import { appendAuditEvents, parseEvent, ROWS_PER_INSERT } from "./audit-writer.ts";
import type { Env } from "./env.ts";

const db = database((env as unknown as Env).DB);
const org = { id: "org_metrics", slug: "metrics", name: "Metrics" };

const event = (i: number) =>
  apiActivityEvent({
    requestId: `req-${i}`, startedAt: Date.now(), durationMs: 1, method: "GET", host: "metrics.airlock.localhost",
    path: "/api/v1/teams", status: 200, userAgent: "curl/8", client: { name: "curl" }, sourceIp: null,
    operation: "admin.teams", org, principal: null,
  });

describe("appendAuditEvents", () => {
  it("binds at most 100 parameters per INSERT", () => {
    expect(ROWS_PER_INSERT * 9).toBeLessThanOrEqual(100);
    expect(ROWS_PER_INSERT).toBeGreaterThan(1);
  });

  it("writes a batch larger than one statement, and a redelivered batch adds nothing", async () => {
    const events = Array.from({ length: 3 * ROWS_PER_INSERT + 5 }, (_, i) => event(i));
    await appendAuditEvents(db, events);
    await appendAuditEvents(db, events);
    const rows = await db.select().from(schema.auditEvents);
    expect(rows).toHaveLength(events.length);
    expect(rows.map((r) => r.requestId).sort()).toEqual(events.map((e) => e.metadata.correlation_uid).sort());
    expect(rows[0]!.event).toMatchObject({ class_uid: 6003, airlock: { org_slug: "metrics" } });
  });
});

describe("parseEvent", () => {
  it("accepts an Airlock event and rejects anything else with the reason", () => {
    expect(parseEvent(event(1))).toMatchObject({ ok: true });
    const bad = parseEvent({ hello: "world" });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.issues).toContain("class_uid");
  });
});
