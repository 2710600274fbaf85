import type { DestinationKind } from "../../../../shared/api/alert-destinations.ts";
import { datadog } from "./datadog.ts";
import { pagerduty } from "./pagerduty.ts";
import { slack } from "./slack.ts";
import { splunkHec } from "./splunk-hec.ts";
import type { Destination } from "./types.ts";
import { webhook } from "./webhook.ts";

// Method parameters are bivariant, so each kind's typed destination fits the common shape.
export const DESTINATIONS: Record<DestinationKind, Destination<unknown, unknown>> = {
  slack, pagerduty, webhook, splunk_hec: splunkHec, datadog,
};
