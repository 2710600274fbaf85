import { z } from "zod";
import { AlertMessageSchema, type AlertMessage } from "../../../shared/guardrail.ts";

/** Detector of the synthetic alert `POST /alert-destinations/{id}/test` sends. */
export const TEST_DETECTOR = "airlock_test_alert";

/**
 * What travels on `airlock-alerts`: an AlertMessage as the engine sends it, or one this
 * module addresses to a single destination (a test alert, a rate-limit summary).
 */
export const AlertQueueMessageSchema = AlertMessageSchema.extend({
  destination_id: z.string().optional(),
  /** A rate-limit summary: report what this destination suppressed in the minute starting here (epoch ms). */
  suppressed_window: z.number().int().optional(),
});
export type AlertQueueMessage = z.infer<typeof AlertQueueMessageSchema>;

const SEVERITY_NAMES: Record<number, string> = { 1: "informational", 2: "low", 3: "medium", 4: "high", 5: "critical", 6: "fatal" };

/** One thing to tell one destination. Never contains the matched value: the alert has none. */
export interface Notification {
  alert: AlertMessage;
  org: { id: string; slug: string | null };
  /** Stable across retries, so a receiver can drop a redelivery. */
  eventId: string;
  suppressed?: { count: number; limitPerMinute: number; windowStart: number; windowEnd: number };
}

type NotificationType = "guardrail.alert" | "guardrail.test_alert" | "guardrail.alerts_suppressed";

export function typeOf(n: Notification): NotificationType {
  if (n.suppressed) return "guardrail.alerts_suppressed";
  return n.alert.detector === TEST_DETECTOR ? "guardrail.test_alert" : "guardrail.alert";
}

const orgLabel = (n: Notification) => n.org.slug ?? n.org.id;
const iso = (ms: number) => new Date(ms).toISOString();

/** One line a person reads first: Slack header, PagerDuty summary, Datadog message. */
export function titleOf(n: Notification): string {
  const { alert } = n;
  switch (typeOf(n)) {
    case "guardrail.test_alert":
      return `Airlock test alert for ${orgLabel(n)}: this destination receives alerts`;
    case "guardrail.alerts_suppressed":
      return `Airlock suppressed ${n.suppressed!.count} more ${alert.detector} alerts in ${alert.direction} for ${orgLabel(n)} (over ${n.suppressed!.limitPerMinute}/min)`;
    default: {
      const verb = alert.action === "block" ? "blocked" : "flagged";
      return `Airlock ${verb} ${alert.category} (${alert.detector}) in ${alert.direction} for ${orgLabel(n)}`;
    }
  }
}

/** The structured record: the webhook body, the HEC event, Datadog attributes, PagerDuty custom details. */
export function eventOf(n: Notification) {
  const { alert } = n;
  return {
    id: n.eventId,
    type: typeOf(n),
    time: iso(alert.time),
    org: n.org,
    alert: {
      request_id: alert.request_id,
      direction: alert.direction,
      action: alert.action,
      detector: alert.detector,
      category: alert.category,
      score: alert.score,
      severity_id: alert.severity_id,
      severity: SEVERITY_NAMES[alert.severity_id]!,
      location: alert.location,
      actor: alert.actor,
    },
    ...(n.suppressed
      ? {
          suppressed: {
            count: n.suppressed.count,
            limit_per_minute: n.suppressed.limitPerMinute,
            window_start: iso(n.suppressed.windowStart),
            window_end: iso(n.suppressed.windowEnd),
          },
        }
      : {}),
  };
}
