// What an isolate and the org's OrgState Durable Object (airlock-auth) say to each other about
// the config version and limits: the router admits and settles model calls against the
// OrgState directly (workers/router/admission/), airlock-auth keeps the counters.
import type { LimitRefusal } from "../rpc.ts";
import type { LimitScope, Metric } from "./limits.ts";
import type { WindowKind } from "./windows.ts";

/**
 * What the OrgState grants with its config version: the isolate may decide at `version`
 * for `lease_ms` from the moment it sent the call, without asking again. The OrgState's
 * `bumpConfigVersion()` answers only once every lease on an older version has run out, so
 * when an admin write's HTTP answer arrives, no isolate anywhere still decides at the old one.
 */
export interface VersionLease {
  version: number;
  lease_ms: number;
}

/** One counter a reservation added to: which row, and the amount it holds there (or, in an allowance lease, was granted or used). */
export type CounterRef = [scope: LimitScope, scopeId: string, metric: Metric, win: WindowKind, windowStart: number, amount: number];

/** A counter and an amount on it, as RPC carries it (a tuple would arrive as a plain array). */
export interface CounterAmount {
  scope: LimitScope;
  scope_id: string;
  metric: Metric;
  win: WindowKind;
  window_start: number;
  amount: number;
}
export const refOf = (c: CounterAmount): CounterRef => [c.scope, c.scope_id, c.metric, c.win, c.window_start, c.amount];

/** An allowance lease: counted as reserved in the OrgState, spent by one isolate locally. `counters` are each counter's grant (0: tracked, not limited). */
export interface AllowanceGrant {
  lease_id: string;
  /** How long the isolate may spend it, from when it sent the call. */
  lease_ms: number;
  /** When the OrgState counts it as wholly used unless given back (its clock). */
  expires_at: number;
  counters: CounterAmount[];
}

/** A hold an isolate had not settled when its lease ended: its counters carry the request's estimate. */
export interface LeasedHold {
  request_id: string;
  counters: CounterAmount[];
}

/**
 * The OrgState's `admit()` answer: the current config version, leased to the caller for
 * `lease_ms` (as `configLease()` does), and, when a reservation was asked at that version,
 * whether a limit refused it.
 */
export interface OrgAdmission {
  configVersion: number;
  lease_ms: number;
  /** The caller decided at another version: nothing was reserved; decide again at `configVersion`. */
  stale: boolean;
  refusal: LimitRefusal | null;
  /** Asked for and granted with the reservation: allowance the caller may spend locally. */
  allowance?: AllowanceGrant;
}
