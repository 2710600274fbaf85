import { amountOf, LIMITS, type ReservationRequest } from "../../../shared/limits/limits.ts";
import { refOf, type AllowanceGrant, type CounterAmount, type CounterRef, type LeasedHold } from "../../../shared/limits/protocol.ts";
import { windowStart } from "../../../shared/limits/windows.ts";
import type { ReservationEstimate } from "../../../shared/rpc.ts";
import { addToCounter, RECORD_MS, type Ledger } from "./ledger.ts";

const amountAt = ([scope, scope_id, metric, win, window_start, amount]: CounterRef): CounterAmount => ({ scope, scope_id, metric, win, window_start, amount });

/** A slice is this fraction of a limit … */
const SLICE_OF_LIMIT = 16;
/** … granted only while at least this many slices remain: the last of a limit is reserved here, one call at a time. */
const SLICES_LEFT = 2;
/** An isolate returns its lease when it runs out; one not back this long after is taken as dead (its isolate with it). */
export const RETURN_GRACE_MS = 30_000;

const SCHEMA = [
  // `counters` holds each counter's grant; `state` is active, returned, or expired (the alarm counted the whole grant as used).
  `CREATE TABLE IF NOT EXISTS limit_leases (
    lease_id TEXT PRIMARY KEY, state TEXT NOT NULL, expires_at INTEGER NOT NULL, counters TEXT NOT NULL)`,
  "CREATE INDEX IF NOT EXISTS limit_leases_state ON limit_leases (state, expires_at)",
  // Settlements of request ids this object did not know: their hold is still in an isolate's lease.
  `CREATE TABLE IF NOT EXISTS limit_early_settlements (
    request_id TEXT PRIMARY KEY, tokens INTEGER NOT NULL, cost_micros INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
];

/**
 * Allowance leases in the OrgState's storage, beside the Ledger's counters: a slice of each
 * limit is debited here (as reserved, so no other isolate can spend it) and an isolate admits
 * from it without a round trip (limits/allowance.ts). When the lease ends the isolate gives
 * back what it really used and its unsettled holds; a lease never given back is counted as
 * wholly used, so a dead isolate can make a limit stricter for a while, never overrun it.
 */
export class LeaseLedger {
  private readonly storage: DurableObjectStorage;
  private readonly ledger: Ledger;

  constructor(storage: DurableObjectStorage, ledger: Ledger) {
    this.storage = storage;
    this.ledger = ledger;
    for (const statement of SCHEMA) storage.sql.exec(statement);
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /**
   * After `request` was reserved: a slice of every limit it counts against, sized in whole
   * requests like it, or nothing when any limit has too little left. Counters without a limit
   * are granted 0 (the isolate only reports their use).
   */
  grant(request: ReservationRequest, now: number, leaseMs: number): AllowanceGrant | null {
    return this.storage.transactionSync(() => {
      const counters: CounterRef[] = [];
      for (const scope of request.scopes) {
        for (const { limit, metric, window: win } of LIMITS) {
          const start = windowStart(win, now);
          const max = scope.limits[limit];
          if (max === undefined) {
            counters.push([scope.scope, scope.scope_id, metric, win, start, 0]);
            continue;
          }
          const row = this.sql
            .exec<{ total: number }>(
              "SELECT used + reserved AS total FROM limit_counters WHERE scope = ? AND scope_id = ? AND metric = ? AND win = ? AND window_start = ?",
              scope.scope, scope.scope_id, metric, win, start,
            )
            .toArray()[0];
          const slice = Math.floor(max / SLICE_OF_LIMIT);
          const amount = amountOf(metric, request, 1);
          const grant = amount > 0 ? Math.floor(slice / amount) * amount : slice;
          if (grant === 0 || max - (row?.total ?? 0) < SLICES_LEFT * slice) return null;
          counters.push([scope.scope, scope.scope_id, metric, win, start, grant]);
        }
      }
      for (const ref of counters) if (ref[5] > 0) addToCounter(this.sql, ref, ref[5], 0);
      const lease_id = crypto.randomUUID();
      this.sql.exec(
        "INSERT INTO limit_leases (lease_id, state, expires_at, counters) VALUES (?, 'active', ?, ?)",
        lease_id, now + leaseMs + RETURN_GRACE_MS, JSON.stringify(counters),
      );
      return { lease_id, lease_ms: leaseMs, expires_at: now + leaseMs + RETURN_GRACE_MS, counters: counters.map(amountAt) };
    });
  }

  /**
   * The end of a lease: its debit goes, what the isolate used is counted, and each unsettled
   * hold becomes an ordinary reservation (settled at once if its settlement came here first).
   * After the alarm counted the lease as wholly used, the real figures replace that. Idempotent.
   */
  giveBack(leaseId: string, used: CounterAmount[], holds: LeasedHold[], now: number): boolean {
    return this.storage.transactionSync(() => {
      const lease = this.sql
        .exec<{ state: string; counters: string }>("SELECT state, counters FROM limit_leases WHERE lease_id = ?", leaseId)
        .toArray()[0];
      if (!lease || lease.state === "returned") return false;
      const active = lease.state === "active";
      for (const ref of JSON.parse(lease.counters) as CounterRef[]) {
        if (ref[5] > 0) addToCounter(this.sql, ref, active ? -ref[5] : 0, active ? 0 : -ref[5]);
      }
      for (const counter of used) addToCounter(this.sql, refOf(counter), 0, counter.amount);
      for (const hold of holds) {
        const early = this.sql
          .exec<{ tokens: number; cost_micros: number }>("DELETE FROM limit_early_settlements WHERE request_id = ? RETURNING tokens, cost_micros", hold.request_id)
          .toArray()[0];
        this.ledger.adopt(hold.request_id, hold.counters.map(refOf), early ? { tokens: early.tokens, cost_micros: early.cost_micros } : null, now);
      }
      this.sql.exec("UPDATE limit_leases SET state = 'returned', expires_at = ? WHERE lease_id = ?", now, leaseId);
      return true;
    });
  }

  /** A settlement for a request id this object does not know: kept for the lease return that brings its hold. */
  recordEarly(requestId: string, usage: ReservationEstimate, now: number): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO limit_early_settlements (request_id, tokens, cost_micros, created_at) VALUES (?, ?, ?, ?)",
      requestId, usage.tokens, usage.cost_micros, now,
    );
  }

  /** Leases not given back by their expiry (a dead isolate): the whole grant counts as used. Returns how many. */
  endExpired(now: number): number {
    return this.storage.transactionSync(() => {
      const expired = this.sql
        .exec<{ lease_id: string; counters: string }>("SELECT lease_id, counters FROM limit_leases WHERE state = 'active' AND expires_at <= ?", now)
        .toArray();
      for (const { lease_id, counters } of expired) {
        for (const ref of JSON.parse(counters) as CounterRef[]) if (ref[5] > 0) addToCounter(this.sql, ref, -ref[5], ref[5]);
        this.sql.exec("UPDATE limit_leases SET state = 'expired' WHERE lease_id = ?", lease_id);
      }
      return expired.length;
    });
  }

  /** Drops ended leases and early settlements past RECORD_MS (a lease returned later still finds its record until then). */
  prune(now: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM limit_leases WHERE state != 'active' AND expires_at < ?", now - RECORD_MS);
      this.sql.exec("DELETE FROM limit_early_settlements WHERE created_at < ?", now - RECORD_MS);
    });
  }

  /** When the next active lease expires or the next record can be pruned; null when nothing is left to do. */
  nextDue(): number | null {
    return this.sql
      .exec<{ due: number | null }>(
        `SELECT MIN(due) AS due FROM (
           SELECT MIN(CASE WHEN state = 'active' THEN expires_at ELSE expires_at + ${RECORD_MS} END) AS due FROM limit_leases
           UNION ALL SELECT MIN(created_at) + ${RECORD_MS} FROM limit_early_settlements)`,
      )
      .one().due;
  }
}
