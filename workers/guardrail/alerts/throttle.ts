import { and, eq, lt, sql } from "drizzle-orm";
import { schema, type Db } from "../../../shared/db/index.ts";

/**
 * Dedup and per-rule rate limiting on `alert_throttle`: one row per (org, key, window), counted
 * with an atomic upsert, so concurrent consumers agree without a lock.
 */
const { alertThrottle } = schema;

export const DEDUP_WINDOW_MS = 10 * 60_000;
export const RATE_WINDOW_MS = 60_000;
/** Longer than a message can keep being retried (about an hour with the consumer's backoff), so a claim outlives its retries. */
const RETENTION_MS = 2 * 60 * 60_000;

const windowOf = (time: number, size: number) => Math.floor(time / size) * size;

const increment = (db: Db, orgId: string, key: string, windowStart: number) =>
  db.insert(alertThrottle).values({ orgId, key, windowStart, count: 1 })
    .onConflictDoUpdate({ target: [alertThrottle.orgId, alertThrottle.key, alertThrottle.windowStart], set: { count: sql`${alertThrottle.count} + 1` } })
    .returning({ count: alertThrottle.count });

const row = (orgId: string, key: string, windowStart: number) =>
  and(eq(alertThrottle.orgId, orgId), eq(alertThrottle.key, key), eq(alertThrottle.windowStart, windowStart));

export const dedupKey = (destinationId: string, detector: string, requestId: string) => `dedup:${destinationId}:${detector}:${requestId}`;
export const rateKey = (destinationId: string, detector: string, direction: string) => `rate:${destinationId}:${detector}:${direction}`;

/**
 * True for the first claim of `key` within 10 minutes of `time` (the alert's own time, so a
 * retry lands in the same window). Windows are fixed, so the previous one is checked too.
 */
export async function claimOnce(db: Db, orgId: string, key: string, time: number): Promise<boolean> {
  const windowStart = windowOf(time, DEDUP_WINDOW_MS);
  const [[claim], previous] = await db.batch([
    increment(db, orgId, key, windowStart),
    db.select({ count: alertThrottle.count }).from(alertThrottle).where(row(orgId, key, windowStart - DEDUP_WINDOW_MS)),
  ]);
  return claim!.count === 1 && previous.length === 0;
}

/** Gives a claim back when its delivery will be retried, so the retry can claim it again. */
export async function releaseClaim(db: Db, orgId: string, key: string, time: number): Promise<void> {
  await db.delete(alertThrottle).where(row(orgId, key, windowOf(time, DEDUP_WINDOW_MS)));
}

/** Counts one send under `key` in the current minute; returns the count including it. */
export async function countSend(db: Db, orgId: string, key: string, now: number): Promise<{ count: number; windowStart: number }> {
  const windowStart = windowOf(now, RATE_WINDOW_MS);
  const [counted] = await increment(db, orgId, key, windowStart);
  return { count: counted!.count, windowStart };
}

export async function sendsInWindow(db: Db, orgId: string, key: string, windowStart: number): Promise<number> {
  const [found] = await db.select({ count: alertThrottle.count }).from(alertThrottle).where(row(orgId, key, windowStart));
  return found?.count ?? 0;
}

export async function pruneThrottle(db: Db, orgId: string, now: number): Promise<void> {
  await db.delete(alertThrottle).where(and(eq(alertThrottle.orgId, orgId), lt(alertThrottle.windowStart, now - RETENTION_MS)));
}
