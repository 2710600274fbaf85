import { amountOf, LIMITS, type LimitName, type LimitScope, type Metric, type ReservationRequest, type ScopeLimits } from "../../../shared/limits/limits.ts";
import type { CounterRef } from "../../../shared/limits/protocol.ts";
import { pruneBefore, WINDOWS, windowEnd, windowStart, type WindowKind } from "../../../shared/limits/windows.ts";
import type { LimitRefusal, ReservationEstimate } from "../../../shared/rpc.ts";

/** A held reservation a caller never settled (it crashed) is released after this, never before. */
export const HOLD_MS = 10 * 60_000;
/** Settled, released and refused reservations are remembered this long, so a repeated reserve or settle stays a no-op. */
export const RECORD_MS = 60 * 60_000;

type State = "held" | "settled" | "released" | "expired" | "refused";

export type CounterRow = {
  scope: LimitScope;
  scope_id: string;
  metric: Metric;
  win: WindowKind;
  window_start: number;
  used: number;
  reserved: number;
};

const SCHEMA = [
  // `used` is settled (real) usage, `reserved` the estimates still held; a check counts both.
  `CREATE TABLE IF NOT EXISTS limit_counters (
    scope TEXT NOT NULL, scope_id TEXT NOT NULL, metric TEXT NOT NULL, win TEXT NOT NULL, window_start INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0, reserved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, scope_id, metric, win, window_start)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS limit_reservations (
    request_id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    counters TEXT NOT NULL, refusal TEXT)`,
  "CREATE INDEX IF NOT EXISTS limit_reservations_state ON limit_reservations (state, expires_at)",
];

const SCOPE_LABEL: Record<LimitScope, (id: string) => string> = {
  key: (id) => `Credential ${id}`,
  user: (id) => `User ${id}`,
  team: (id) => `Team ${id}`,
  org: () => "The org",
};
const WINDOW_LABEL: Record<WindowKind, string> = { minute: "this minute", day: "today (UTC)", month: "this month (UTC)" };
/** Dollars with cents, and more digits only when they matter: $5.00, $0.0025. */
const usd = (micros: number) => `$${(micros / 1e6).toFixed(6).replace(/(\.\d\d\d*?)0+$/, "$1")}`;

function refusalDetail(scope: ScopeLimits, limit: LimitName, max: number, current: number, amount: number, win: WindowKind): string {
  const who = SCOPE_LABEL[scope.scope](scope.scope_id);
  const alone = amount > max ? "; this request alone exceeds the limit (lower max_tokens)" : "";
  if (limit === "requests_per_minute") return `${who} allows ${max} requests per minute; ${current} already made or in flight ${WINDOW_LABEL[win]}`;
  if (limit === "tokens_per_minute") {
    return `${who} allows ${max} tokens per minute; ${current} used or reserved ${WINDOW_LABEL[win]} and this request may use ${amount}${alone}`;
  }
  return `${who} has a budget of ${usd(max)} per ${win}; ${usd(current)} spent or reserved ${WINDOW_LABEL[win]} and this request may cost ${usd(amount)}${alone}`;
}

/** Adds to a counter row's `reserved` and `used` (either may be negative), creating the row if it is new. */
export function addToCounter(sql: SqlStorage, [scope, scopeId, metric, win, start]: CounterRef, reserved: number, used: number): void {
  sql.exec(
    `INSERT INTO limit_counters (scope, scope_id, metric, win, window_start, used, reserved) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO UPDATE SET reserved = reserved + excluded.reserved, used = used + excluded.used`,
    scope, scopeId, metric, win, start, used, reserved,
  );
}

/**
 * Rate-limit and budget counters and reservations in the OrgState's SQLite storage. Every
 * method is synchronous and runs in one storage transaction, so a check and the writes it
 * leads to cannot interleave with another request's: concurrency cannot overrun a limit.
 * Times are passed in (the Durable Object passes `Date.now()`), so tests can roll windows.
 */
export class Ledger {
  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    for (const statement of SCHEMA) storage.sql.exec(statement);
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /**
   * Holds the estimate against every limit of every scope, or refuses with the first it
   * would overrun (nothing held). A repeated request id gets the first answer again.
   */
  reserve(request: ReservationRequest, now: number): LimitRefusal | null {
    return this.storage.transactionSync(() => {
      const previous = this.sql
        .exec<{ refusal: string | null }>("SELECT refusal FROM limit_reservations WHERE request_id = ?", request.request_id)
        .toArray()[0];
      if (previous) return previous.refusal ? (JSON.parse(previous.refusal) as LimitRefusal) : null;

      const refusal = this.firstOverrun(request, now);
      const counters: CounterRef[] = [];
      if (!refusal) {
        for (const scope of request.scopes) {
          for (const { metric, window: win } of LIMITS) {
            const start = windowStart(win, now);
            const amount = amountOf(metric, request, 1);
            this.sql.exec(
              `INSERT INTO limit_counters (scope, scope_id, metric, win, window_start, used, reserved) VALUES (?, ?, ?, ?, ?, 0, ?)
               ON CONFLICT DO UPDATE SET reserved = reserved + excluded.reserved`,
              scope.scope, scope.scope_id, metric, win, start, amount,
            );
            counters.push([scope.scope, scope.scope_id, metric, win, start, amount]);
          }
        }
      }
      this.sql.exec(
        "INSERT INTO limit_reservations (request_id, state, created_at, expires_at, counters, refusal) VALUES (?, ?, ?, ?, ?, ?)",
        request.request_id, refusal ? "refused" : "held", now, now + HOLD_MS, JSON.stringify(counters), refusal ? JSON.stringify(refusal) : null,
      );
      return refusal;
    });
  }

  private firstOverrun(request: ReservationRequest, now: number): LimitRefusal | null {
    for (const scope of request.scopes) {
      for (const { limit, metric, window: win } of LIMITS) {
        const max = scope.limits[limit];
        if (max === undefined) continue;
        const start = windowStart(win, now);
        const amount = amountOf(metric, request, 1);
        const row = this.sql
          .exec<{ total: number }>(
            "SELECT used + reserved AS total FROM limit_counters WHERE scope = ? AND scope_id = ? AND metric = ? AND win = ? AND window_start = ?",
            scope.scope, scope.scope_id, metric, win, start,
          )
          .toArray()[0];
        const current = row?.total ?? 0;
        if (current + amount <= max) continue;
        return {
          scope: scope.scope,
          scope_id: scope.scope_id,
          limit,
          retry_after_s: Math.max(1, Math.ceil((windowEnd(win, start) - now) / 1000)),
          detail: refusalDetail(scope, limit, max, current, amount, win),
        };
      }
    }
    return null;
  }

  /**
   * Replaces a held estimate with the real usage; all zeros release it (the call failed: as
   * if never admitted). After an expiry release the real usage is still counted. Unknown,
   * refused or already settled ids are a no-op. Returns whether anything changed.
   */
  settle(requestId: string, usage: ReservationEstimate): boolean {
    return this.storage.transactionSync(() => {
      const row = this.sql
        .exec<{ state: State; counters: string }>("SELECT state, counters FROM limit_reservations WHERE request_id = ?", requestId)
        .toArray()[0];
      if (!row || (row.state !== "held" && row.state !== "expired")) return false;
      const release = usage.tokens === 0 && usage.cost_micros === 0;
      const held = row.state === "held" ? 1 : 0;
      for (const [scope, scopeId, metric, win, start, amount] of JSON.parse(row.counters) as CounterRef[]) {
        const actual = release ? 0 : amountOf(metric, usage, 1);
        this.sql.exec(
          "UPDATE limit_counters SET reserved = reserved - ?, used = used + ? WHERE scope = ? AND scope_id = ? AND metric = ? AND win = ? AND window_start = ?",
          amount * held, actual, scope, scopeId, metric, win, start,
        );
      }
      this.sql.exec("UPDATE limit_reservations SET state = ? WHERE request_id = ?", release ? "released" : "settled", requestId);
      return true;
    });
  }

  /** The state of the request id's reservation record; null when there is none. */
  stateOf(requestId: string): State | null {
    return this.sql.exec<{ state: State }>("SELECT state FROM limit_reservations WHERE request_id = ?", requestId).toArray()[0]?.state ?? null;
  }

  /**
   * Takes over a hold an isolate admitted from its allowance lease and had not settled when the
   * lease ended: it becomes an ordinary held reservation (same request id and counters), or, if
   * its settlement already arrived here (`settled`), is settled at once. Call inside the lease
   * return's transaction. A refusal recorded here is replaced (the isolate admitted the call from
   * its lease after all); any other record means it was taken over already.
   */
  adopt(requestId: string, counters: CounterRef[], settled: ReservationEstimate | null, now: number): void {
    const state = this.stateOf(requestId);
    if (state !== null && state !== "refused") return;
    if (state === "refused") this.sql.exec("DELETE FROM limit_reservations WHERE request_id = ?", requestId);
    const release = settled !== null && settled.tokens === 0 && settled.cost_micros === 0;
    for (const ref of counters) {
      if (settled) addToCounter(this.sql, ref, 0, release ? 0 : amountOf(ref[2], settled, 1));
      else addToCounter(this.sql, ref, ref[5], 0);
    }
    this.sql.exec(
      "INSERT INTO limit_reservations (request_id, state, created_at, expires_at, counters, refusal) VALUES (?, ?, ?, ?, ?, NULL)",
      requestId, settled ? (release ? "released" : "settled") : "held", now, now + HOLD_MS, JSON.stringify(counters),
    );
  }

  /** Releases holds older than HOLD_MS (their callers never settled). Returns how many. */
  releaseExpired(now: number): number {
    return this.storage.transactionSync(() => {
      const expired = this.sql
        .exec<{ request_id: string; counters: string }>(
          "SELECT request_id, counters FROM limit_reservations WHERE state = 'held' AND expires_at <= ?", now,
        )
        .toArray();
      for (const { request_id, counters } of expired) {
        for (const [scope, scopeId, metric, win, start, amount] of JSON.parse(counters) as CounterRef[]) {
          this.sql.exec(
            "UPDATE limit_counters SET reserved = reserved - ? WHERE scope = ? AND scope_id = ? AND metric = ? AND win = ? AND window_start = ?",
            amount, scope, scopeId, metric, win, start,
          );
        }
        this.sql.exec("UPDATE limit_reservations SET state = 'expired' WHERE request_id = ?", request_id);
      }
      return expired.length;
    });
  }

  /** Drops counters of windows long past and reservation records past RECORD_MS (holds stay until released). */
  prune(now: number): void {
    this.storage.transactionSync(() => {
      for (const win of WINDOWS) {
        // A past window is never checked again; a late settle or release in it updates no row.
        this.sql.exec("DELETE FROM limit_counters WHERE win = ? AND window_start < ?", win, pruneBefore(win, now));
      }
      this.sql.exec("DELETE FROM limit_reservations WHERE state != 'held' AND created_at < ?", now - RECORD_MS);
    });
  }

  /** When the next hold expires or the next record can be pruned; null when nothing is left to do. */
  nextDue(): number | null {
    const row = this.sql
      .exec<{ due: number | null }>(
        `SELECT MIN(CASE WHEN state = 'held' THEN expires_at ELSE created_at + ${RECORD_MS} END) AS due FROM limit_reservations`,
      )
      .one();
    return row.due;
  }

  /** The counters of the current windows (spend and holds), for the admin API. */
  current(now: number): CounterRow[] {
    const starts = WINDOWS.map((win) => [win, windowStart(win, now)] as const);
    return this.sql
      .exec<CounterRow>(
        `SELECT scope, scope_id, metric, win, window_start, used, reserved FROM limit_counters
         WHERE (win = ? AND window_start = ?) OR (win = ? AND window_start = ?) OR (win = ? AND window_start = ?)`,
        ...starts.flat(),
      )
      .toArray();
  }
}
