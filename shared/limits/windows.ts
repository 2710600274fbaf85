/**
 * The windows limits count in, all fixed and in UTC: a minute for requests and tokens per
 * minute, the calendar day and month for dollars. A fixed window is exact and cheap (one
 * counter row per scope and window); its `end` is when the window frees its allowance, which
 * is what `retry-after` reports.
 */
export const WINDOWS = ["minute", "day", "month"] as const;
export type WindowKind = (typeof WINDOWS)[number];

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export function windowStart(kind: WindowKind, now: number): number {
  if (kind === "minute") return now - (now % MINUTE_MS);
  if (kind === "day") return now - (now % DAY_MS);
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function windowEnd(kind: WindowKind, start: number): number {
  if (kind === "minute") return start + MINUTE_MS;
  if (kind === "day") return start + DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Counter rows of windows that ended before this are never read again (spend shows the current ones). */
export function pruneBefore(kind: WindowKind, now: number): number {
  const current = windowStart(kind, now);
  if (kind === "minute") return current - MINUTE_MS;
  if (kind === "day") return current - DAY_MS;
  return windowStart("month", current - 1);
}
