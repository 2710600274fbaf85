import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database, schema } from "../../../shared/db/index.ts";
import type { Env } from "../env.ts";
import { claimOnce, countSend, DEDUP_WINDOW_MS, pruneThrottle, RATE_WINDOW_MS, releaseClaim, sendsInWindow } from "./throttle.ts";

const db = database((env as unknown as Env).DB);
// Storage is shared by the tests of a file: every test uses its own org id.
const newOrg = () => `org_${crypto.randomUUID().slice(0, 8)}`;
/** A time at the start of a dedup window, so `+ n minutes` lands where the test says. */
const windowStart = Math.floor(Date.now() / DEDUP_WINDOW_MS) * DEDUP_WINDOW_MS;

describe("claimOnce (dedup)", () => {
  it("grants the first claim of a key and refuses the next within the window", async () => {
    const org = newOrg();
    expect(await claimOnce(db, org, "dedup:d1:aws_access_key:req1", windowStart + 1000)).toBe(true);
    expect(await claimOnce(db, org, "dedup:d1:aws_access_key:req1", windowStart + 2000)).toBe(false);
    expect(await claimOnce(db, org, "dedup:d1:aws_access_key:req2", windowStart + 2000)).toBe(true);
    expect(await claimOnce(db, newOrg(), "dedup:d1:aws_access_key:req1", windowStart + 2000)).toBe(true);
  });

  it("is atomic: of concurrent claims exactly one wins", async () => {
    const org = newOrg();
    const claims = await Promise.all(Array.from({ length: 10 }, () => claimOnce(db, org, "dedup:d1:x:req", windowStart)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it("still refuses a duplicate that falls just past a window boundary, and forgets the key after a quiet window", async () => {
    const org = newOrg();
    const minute = 60_000;
    expect(await claimOnce(db, org, "k", windowStart + 9 * minute)).toBe(true);
    expect(await claimOnce(db, org, "k", windowStart + 11 * minute)).toBe(false);
    expect(await claimOnce(db, org, "k", windowStart + 31 * minute)).toBe(true);
  });

  it("can be claimed again once released (a delivery that will be retried)", async () => {
    const org = newOrg();
    expect(await claimOnce(db, org, "k", windowStart)).toBe(true);
    await releaseClaim(db, org, "k", windowStart);
    expect(await claimOnce(db, org, "k", windowStart + 5000)).toBe(true);
  });
});

describe("countSend (rate limit)", () => {
  it("counts sends per key per minute, and starts again in the next minute", async () => {
    const org = newOrg();
    const minute = Math.floor(Date.now() / RATE_WINDOW_MS) * RATE_WINDOW_MS;
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push((await countSend(db, org, "rate:d1:x:prompt", minute + i * 1000)).count);
    expect(counts).toEqual([1, 2, 3]);
    expect(await countSend(db, org, "rate:d1:x:response", minute)).toEqual({ count: 1, windowStart: minute });
    expect(await countSend(db, org, "rate:d1:x:prompt", minute + RATE_WINDOW_MS)).toEqual({ count: 1, windowStart: minute + RATE_WINDOW_MS });
    expect(await sendsInWindow(db, org, "rate:d1:x:prompt", minute)).toBe(3);
    expect(await sendsInWindow(db, org, "rate:d1:x:tool_args", minute)).toBe(0);
  });
});

describe("pruneThrottle", () => {
  it("deletes the org's rows older than two hours and nothing else", async () => {
    const org = newOrg();
    const other = newOrg();
    const now = Date.now();
    await countSend(db, org, "old", now - 3 * 60 * 60_000);
    await countSend(db, org, "recent", now);
    await countSend(db, other, "old", now - 3 * 60 * 60_000);
    await pruneThrottle(db, org, now);
    const { alertThrottle } = schema;
    expect((await db.select().from(alertThrottle).where(eq(alertThrottle.orgId, org))).map((r) => r.key)).toEqual(["recent"]);
    expect(await db.select().from(alertThrottle).where(and(eq(alertThrottle.orgId, other), eq(alertThrottle.key, "old")))).toHaveLength(1);
  });
});
