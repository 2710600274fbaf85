import { SplunkHecSecret, SplunkHecSettings } from "../../../../shared/api/alert-destinations.ts";
import { eventOf } from "../notification.ts";
import { JSON_HEADERS, type Destination } from "./types.ts";

const COLLECTOR_PATH = "/services/collector/event";

/** The base URL as configured, with or without the collector path already on it. */
function endpoint({ settings }: { settings: SplunkHecSettings }): string {
  const url = new URL(settings.url);
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith(COLLECTOR_PATH) ? path : `${path}${COLLECTOR_PATH}`;
  return url.toString();
}

/** Splunk HTTP Event Collector, JSON event protocol; `{"text":"Success","code":0}` on success. */
export const splunkHec: Destination<SplunkHecSettings, SplunkHecSecret> = {
  kind: "splunk_hec",
  settings: SplunkHecSettings,
  secret: SplunkHecSecret,
  endpointPath: "settings.url",
  endpoint,
  async request(notification, config) {
    const { settings } = config;
    return {
      url: endpoint(config),
      headers: { ...JSON_HEADERS, authorization: `Splunk ${config.secret.token}` },
      body: JSON.stringify({
        // Epoch seconds; milliseconds as the fraction.
        time: notification.alert.time / 1000,
        host: "airlock",
        source: settings.source,
        sourcetype: settings.sourcetype,
        ...(settings.index ? { index: settings.index } : {}),
        event: eventOf(notification),
      }),
    };
  },
};
