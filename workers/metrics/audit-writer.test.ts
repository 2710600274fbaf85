import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database, schema } from "../../shared/db/index.ts";
import { apiActivityEvent } from "../../shared/events.ts";
import { auditAppender, MAX_STATEMENT_JSON, parseEvent } from "./audit-writer.ts";
import type { Env } from "./env.ts";
import worker from "./index.ts";

const d1 = (env as unknown as Env).DB;
const db = database(d1);
const org = { id: "org_metrics", slug: "metrics", name: "Metrics" };
const principal = {
  kind: "api_key" as const, org_id: org.id, org_slug: org.slug, credential_id: "key_1", user_id: "usr_1", email: "ä@metrics.test",
  teams: [{ id: "team_1", name: "Équipe \"core\"" }], roles: [], client: { name: "curl" },
};

const event = (i: number, userAgent = "curl/8") =>
  apiActivityEvent({
    requestId: `req-${i}`, startedAt: Date.now(), durationMs: 1.25, method: "POST", host: "metrics.airlock.localhost",
    path: "/llm/openai/v1/chat/completions", status: 200, userAgent, client: { name: "curl" }, sourceIp: null,
    operation: "llm.chat", org, principal, attributes: { "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 12 },
  });

/** Appends the events through a D1 that records each statement's bound rows. */
async function append(events: object[]): Promise<string[]> {
  const statements: string[] = [];
  const recording = {
    prepare(sql: string) {
      const statement = d1.prepare(sql);
      return { bind: (json: string) => (statements.push(json), statement.bind(json)) };
    },
  } as unknown as D1Database;
  const audit = auditAppender(recording);
  for (const e of events) await audit.append(e as ReturnType<typeof event>);
  await audit.flush();
  return statements;
}

describe("auditAppender", () => {
  it("writes a batch in statements of at most MAX_STATEMENT_JSON, indexed columns and event intact, and a redelivered batch adds nothing", async () => {
    const events = Array.from({ length: 250 }, (_, i) => event(i, i === 7 ? "agent/1 \u2028 😀 \\ \"quoted\"" : "curl/8"));
    const statements = await append(events);
    expect(statements.length).toBeGreaterThan(1);
    for (const json of statements) expect(json.length).toBeLessThanOrEqual(MAX_STATEMENT_JSON);
    expect(statements.flatMap((json) => JSON.parse(json) as unknown[])).toHaveLength(events.length);
    await append(events);
    const rows = await db.select().from(schema.auditEvents).where(eq(schema.auditEvents.orgId, org.id));
    expect(rows).toHaveLength(events.length);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const e of events) {
      expect(byId.get(e.metadata.uid)).toEqual({
        id: e.metadata.uid, orgId: org.id, time: e.time, requestId: e.metadata.correlation_uid, typeUid: 600301, statusId: 1,
        actorUserId: "usr_1", credentialId: "key_1", event: e,
      });
    }
  });

  it("sends a row larger than a statement alone, far under D1's 2 MB limit on a value", async () => {
    const big = Array.from({ length: 12 }, (_, i) => ({ ...event(1000 + i), padding: "ü".repeat(100_000) }));
    const statements = await append(big);
    expect(statements).toHaveLength(big.length);
    for (const json of statements) expect(new TextEncoder().encode(json).byteLength).toBeLessThan(2_000_000);
    const stored = await db.select({ event: schema.auditEvents.event }).from(schema.auditEvents).where(eq(schema.auditEvents.requestId, "req-1011"));
    expect(stored).toEqual([{ event: big[11] }]);
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

describe("the airlock-events consumer", () => {
  it("writes every event of a packed message and of a single-event one, and acknowledges past an invalid event", async () => {
    const packed = [event(201), event(202)];
    const single = event(203);
    let acked = false;
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => void errors.push(line);
    try {
      const messages = [packed, single, [{ not: "an event" }]].map((body, i) => ({ id: `m${i}`, body }));
      await worker.queue!({ messages, ackAll: () => (acked = true), retryAll: () => undefined } as unknown as MessageBatch<unknown>, env as unknown as Env);
    } finally {
      console.error = original;
    }
    const ids = [...packed, single].map((e) => e.metadata.uid);
    const rows = await db.select({ id: schema.auditEvents.id }).from(schema.auditEvents).where(inArray(schema.auditEvents.id, ids));
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(acked).toBe(true);
    expect(errors.map((line) => JSON.parse(line))).toMatchObject([{ message_id: "m2", error: "not an Airlock event" }]);
  });
});
