import { DatadogSecret, DatadogSettings } from "../../../../shared/api/alert-destinations.ts";
import { eventOf, titleOf } from "../notification.ts";
import { JSON_HEADERS, type Destination } from "./types.ts";

/** OCSF severity_id → Datadog log status. */
const statusOf = (severityId: number) => (severityId >= 5 ? "critical" : severityId === 4 ? "error" : severityId === 3 ? "warning" : "info");

const endpoint = ({ settings }: { settings: DatadogSettings }) => settings.intake_url ?? `https://http-intake.logs.${settings.site}/api/v2/logs`;

/** Datadog Logs intake v2: an array of log items; 202 `{}` on success. */
export const datadog: Destination<DatadogSettings, DatadogSecret> = {
  kind: "datadog",
  settings: DatadogSettings,
  secret: DatadogSecret,
  endpointPath: "settings.intake_url",
  endpoint,
  async request(notification, config) {
    const event = eventOf(notification);
    const { alert } = event;
    const tags = [
      `org:${event.org.slug ?? event.org.id}`, `detector:${alert.detector}`, `category:${alert.category}`,
      `direction:${alert.direction}`, `action:${alert.action}`, `severity:${alert.severity}`, `alert_type:${event.type}`,
      ...config.settings.tags,
    ];
    return {
      url: endpoint(config),
      headers: { ...JSON_HEADERS, "dd-api-key": config.secret.api_key },
      body: JSON.stringify([
        {
          ddsource: "airlock",
          ddtags: tags.join(","),
          hostname: "airlock",
          service: config.settings.service,
          message: titleOf(notification),
          status: statusOf(alert.severity_id),
          timestamp: notification.alert.time,
          airlock: event,
        },
      ]),
    };
  },
};
