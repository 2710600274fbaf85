import { DurableObject } from "cloudflare:workers";
import type { LimitRefusal, OrgStateRpc } from "../../shared/rpc.ts";
import type { Env } from "./env.ts";
import { HOLD_MS, Ledger, RECORD_MS, type CounterRow } from "./limits/ledger.ts";
import type { ReservationRequest } from "./limits/limits.ts";

/** `admit()`'s answer: the current config version and, when a reservation was asked at that version, whether a limit refused it. */
export interface OrgAdmission {
  configVersion: number;
  /** The caller decided at another version: nothing was reserved; decide again at `configVersion`. */
  stale: boolean;
  refusal: LimitRefusal | null;
}

/**
 * One per org. Holds the org's config version: every admin write bumps it, and every
 * isolate cache (credentials, policies, limit rules, detectors, registry) is keyed by it,
 * so a revocation takes effect on the very next request without a D1 read per request.
 * Also holds the org's rate-limit and budget counters (limits/ledger.ts): admission
 * confirms the version and reserves in one call, so it costs one round trip.
 */
export class OrgState extends DurableObject<Env> implements OrgStateRpc {
  private readonly ledger: Ledger;
  /** The alarm that releases expired holds and prunes; mirrored here so a reserve does not read it. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS config (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
    ctx.storage.sql.exec("INSERT OR IGNORE INTO config (id, version) VALUES (1, 1)");
    this.ledger = new Ledger(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Private methods are `#`: everything else on a Durable Object is callable over RPC. */
  #version(): number {
    return this.ctx.storage.sql.exec<{ version: number }>("SELECT version FROM config WHERE id = 1").one().version;
  }

  async configVersion(): Promise<number> {
    return this.#version();
  }

  async bumpConfigVersion(): Promise<number> {
    return this.ctx.storage.sql
      .exec<{ version: number }>("UPDATE config SET version = version + 1 WHERE id = 1 RETURNING version")
      .one().version;
  }

  /**
   * The admission round trip: confirms the caller decided at the current config version
   * (its limit rules included) and, if so and asked, reserves. The limit rules come from
   * the caller (the auth Worker's isolate cache, keyed by config version and loaded from
   * D1): a matching version proves they are current, so this object keeps no copy to sync.
   */
  async admit(knownVersion: number | null, reservation: ReservationRequest | null): Promise<OrgAdmission> {
    const configVersion = this.#version();
    if (knownVersion !== configVersion) return { configVersion, stale: true, refusal: null };
    if (!reservation) return { configVersion, stale: false, refusal: null };
    const now = Date.now();
    const refusal = this.ledger.reserve(reservation, now);
    // A hold is released at HOLD_MS; a refusal's record (kept for idempotency) is pruned at RECORD_MS.
    await this.#scheduleAlarm(now + (refusal ? RECORD_MS : HOLD_MS));
    return { configVersion, stale: false, refusal };
  }

  /** Settles a reservation to the real usage, or releases it (zeros). Idempotent. */
  async settle(requestId: string, tokens: number, costMicros: number): Promise<void> {
    this.ledger.settle(requestId, { tokens, cost_micros: costMicros });
  }

  /** The counters of the current minute, day and month. */
  async spend(): Promise<{ now: number; counters: CounterRow[] }> {
    const now = Date.now();
    return { now, counters: this.ledger.current(now) };
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.alarmAt = null;
    this.ledger.releaseExpired(now);
    this.ledger.prune(now);
    const due = this.ledger.nextDue();
    if (due !== null) await this.#scheduleAlarm(due);
  }

  /** An alarm at `at` unless one is already due sooner (the earliest hold expires first). */
  async #scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}

export function orgState(env: { ORG_STATE: DurableObjectNamespace<OrgState> }, orgId: string) {
  return env.ORG_STATE.getByName(orgId);
}
