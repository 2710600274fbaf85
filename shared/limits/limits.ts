import type { LimitRefusal, ReservationEstimate } from "../rpc.ts";
import type { WindowKind } from "./windows.ts";

export type LimitScope = LimitRefusal["scope"];
export type LimitName = LimitRefusal["limit"];
export type Metric = "requests" | "tokens" | "cost_micros";

/** Each limit: what it counts and over which window. Dollar limits count micro-dollars. */
export const LIMITS = [
  { limit: "requests_per_minute", metric: "requests", window: "minute" },
  { limit: "tokens_per_minute", metric: "tokens", window: "minute" },
  { limit: "usd_per_day", metric: "cost_micros", window: "day" },
  { limit: "usd_per_month", metric: "cost_micros", window: "month" },
] as const satisfies readonly { limit: LimitName; metric: Metric; window: WindowKind }[];

/**
 * The limits of one scope the OrgState checks a request against (dollar limits in
 * micro-dollars). For the org scope, `scope_id` is the org id.
 */
export interface ScopeLimits {
  scope: LimitScope;
  scope_id: string;
  limits: Partial<Record<LimitName, number>>;
}

/** What `admit()` asks the OrgState to hold: the estimate against every scope's limits. */
export interface ReservationRequest extends ReservationEstimate {
  request_id: string;
  scopes: ScopeLimits[];
}

/** A request's amount of a metric: one request, its tokens, its cost. */
export const amountOf = (metric: Metric, usage: ReservationEstimate, requests: number) =>
  metric === "requests" ? requests : metric === "tokens" ? usage.tokens : usage.cost_micros;
