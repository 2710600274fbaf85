import { PagerDutySecret, PagerDutySettings } from "../../../../shared/api/alert-destinations.ts";
import { eventOf, titleOf, typeOf, type Notification } from "../notification.ts";
import { JSON_HEADERS, type Destination } from "./types.ts";

/** OCSF severity_id → the four PagerDuty severities. */
const severityOf = (severityId: number) => (severityId >= 5 ? "critical" : severityId === 4 ? "error" : severityId === 3 ? "warning" : "info");

/** One incident per finding kind per request (a summary per window): later triggers with the same key only add to it. */
function dedupKeyOf(n: Notification): string {
  const { alert } = n;
  const key = typeOf(n) === "guardrail.alerts_suppressed"
    ? `airlock:${alert.org_id}:${alert.detector}:${alert.direction}:suppressed:${n.suppressed!.windowStart}`
    : `airlock:${alert.org_id}:${alert.detector}:${alert.request_id}`;
  return key.slice(0, 255);
}

const endpoint = ({ settings }: { settings: PagerDutySettings }) => settings.events_url;

/** PagerDuty Events API v2: a `trigger` event; 202 `{status: "success", dedup_key}` on success. */
export const pagerduty: Destination<PagerDutySettings, PagerDutySecret> = {
  kind: "pagerduty",
  settings: PagerDutySettings,
  secret: PagerDutySecret,
  endpointPath: "settings.events_url",
  endpoint,
  async request(notification, config) {
    const event = eventOf(notification);
    return {
      url: endpoint(config),
      headers: { ...JSON_HEADERS },
      body: JSON.stringify({
        routing_key: config.secret.routing_key,
        event_action: "trigger",
        dedup_key: dedupKeyOf(notification),
        client: "Airlock",
        payload: {
          summary: titleOf(notification).slice(0, 1024),
          source: `airlock:${event.org.slug ?? event.org.id}`,
          severity: severityOf(event.alert.severity_id),
          timestamp: event.time,
          component: event.alert.direction,
          group: event.alert.category,
          class: event.alert.detector,
          custom_details: event,
        },
      }),
    };
  },
};
