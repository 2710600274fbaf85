import { DurableObject } from "cloudflare:workers";
import type { ReservationRequest } from "../../shared/limits/limits.ts";
import type { CounterAmount, LeasedHold, OrgAdmission, VersionLease } from "../../shared/limits/protocol.ts";
import type { OrgStateRpc } from "../../shared/rpc.ts";
import type { Env } from "./env.ts";
import { LeaseLedger } from "./limits/lease-ledger.ts";
import { HOLD_MS, Ledger, RECORD_MS, type CounterRow } from "./limits/ledger.ts";

/** How long an isolate may decide at a config version without asking again, unless the CONFIG_LEASE_MS var says otherwise. */
const DEFAULT_LEASE_MS = 250;
/** An allowance lease lasts this many version leases (2 s by default): it is spent only while one runs, and renewing that is cheap. */
const ALLOWANCE_LEASES = 8;

/**
 * One per org. Holds the org's config version: every admin write bumps it, and every
 * isolate cache (credentials, policies, limit rules, detectors, registry) is keyed by it,
 * so a revocation takes effect on the very next request without a D1 read per request.
 * Isolates hold the version under a short lease (limits/version-lease.ts) and ask again only
 * when it runs out; a bump answers once every lease on an older version has run out.
 * Also holds the org's rate-limit and budget counters (limits/ledger.ts): admission
 * confirms the version and reserves in one call, so it costs one round trip at most, and
 * none while the isolate spends allowance leased from here (limits/lease-ledger.ts).
 */
export class OrgState extends DurableObject<Env> implements OrgStateRpc {
  private readonly ledger: Ledger;
  private readonly leases: LeaseLedger;
  /** The alarm that releases expired holds and prunes; mirrored here so a reserve does not read it. */
  private alarmAt: number | null = null;
  private readonly leaseMs: number;
  /**
   * The latest time any version lease granted by this object runs to. In memory only: after a
   * (re)start a lease granted by the previous instance may still run, for at most one lease.
   */
  private leasedUntil: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const configured = Number(env.CONFIG_LEASE_MS);
    this.leaseMs = env.CONFIG_LEASE_MS && Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_LEASE_MS;
    this.leasedUntil = Date.now() + this.leaseMs;
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS config (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
    ctx.storage.sql.exec("INSERT OR IGNORE INTO config (id, version) VALUES (1, 1)");
    this.ledger = new Ledger(ctx.storage);
    this.leases = new LeaseLedger(ctx.storage, this.ledger);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Private methods are `#`: everything else on a Durable Object is callable over RPC. */
  #version(): number {
    return this.ctx.storage.sql.exec<{ version: number }>("SELECT version FROM config WHERE id = 1").one().version;
  }

  /** Leases the current version to the caller: it may decide at it for `lease_ms` without asking again. */
  #lease(): number {
    this.leasedUntil = Math.max(this.leasedUntil, Date.now() + this.leaseMs);
    return this.leaseMs;
  }

  /** The current version, unleased: for callers that confirm it another way (the router's registry, via admit's answer). */
  async configVersion(): Promise<number> {
    return this.#version();
  }

  async configLease(): Promise<VersionLease> {
    return { version: this.#version(), lease_ms: this.#lease() };
  }

  /**
   * New leases carry the new version at once; the answer waits until every lease granted on
   * an older one has run out (at most one lease, CONFIG_LEASE_MS), so an admin write is in
   * force everywhere once its caller hears back. A plain timer, no storage transaction held:
   * admissions keep being served meanwhile.
   */
  async bumpConfigVersion(): Promise<number> {
    const version = this.ctx.storage.sql
      .exec<{ version: number }>("UPDATE config SET version = version + 1 WHERE id = 1 RETURNING version")
      .one().version;
    const wait = this.leasedUntil - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return version;
  }

  /**
   * The admission round trip: confirms the caller decided at the current config version
   * (its limit rules included) and, if so and asked, reserves. The limit rules come from
   * the caller (the auth Worker's isolate cache, keyed by config version and loaded from
   * D1): a matching version proves they are current, so this object keeps no copy to sync.
   * With `wantAllowance`, a reservation that fits also leases the caller a slice of each limit.
   */
  async admit(knownVersion: number | null, reservation: ReservationRequest | null, wantAllowance = false): Promise<OrgAdmission> {
    const configVersion = this.#version();
    const lease_ms = this.#lease();
    if (knownVersion !== configVersion) return { configVersion, lease_ms, stale: true, refusal: null };
    if (!reservation) return { configVersion, lease_ms, stale: false, refusal: null };
    const now = Date.now();
    const refusal = this.ledger.reserve(reservation, now);
    const allowance = !refusal && wantAllowance ? this.leases.grant(reservation, now, ALLOWANCE_LEASES * lease_ms) : null;
    // A hold is released at HOLD_MS; a refusal's record (kept for idempotency) is pruned at RECORD_MS; a lease never given back ends at its expiry.
    await this.#scheduleAlarm(Math.min(now + (refusal ? RECORD_MS : HOLD_MS), allowance?.expires_at ?? Infinity));
    return { configVersion, lease_ms, stale: false, refusal, ...(allowance ? { allowance } : {}) };
  }

  /** Settles a reservation to the real usage, or releases it (zeros). Idempotent. */
  async settle(requestId: string, tokens: number, costMicros: number): Promise<void> {
    const usage = { tokens, cost_micros: costMicros };
    if (this.ledger.settle(requestId, usage)) return;
    // Unknown here (or refused here, then admitted from the caller's own lease): its hold may
    // still be in an isolate's allowance lease, whose return applies this.
    const state = this.ledger.stateOf(requestId);
    if (state !== null && state !== "refused") return;
    const now = Date.now();
    this.leases.recordEarly(requestId, usage, now);
    await this.#scheduleAlarm(now + RECORD_MS);
  }

  /** An isolate's allowance lease ends: what it used, and its unsettled holds to take over. Idempotent. */
  async returnLease(leaseId: string, used: CounterAmount[], holds: LeasedHold[]): Promise<void> {
    const now = Date.now();
    // Holds it took over are released at HOLD_MS if never settled.
    if (this.leases.giveBack(leaseId, used, holds, now) && holds.length > 0) await this.#scheduleAlarm(now + HOLD_MS);
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
    this.leases.endExpired(now);
    this.ledger.prune(now);
    this.leases.prune(now);
    const due = Math.min(this.ledger.nextDue() ?? Infinity, this.leases.nextDue() ?? Infinity);
    if (due !== Infinity) await this.#scheduleAlarm(due);
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
