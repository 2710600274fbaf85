import type { z } from "zod";
import type { DestinationKind } from "../../../../shared/api/alert-destinations.ts";
import type { Notification } from "../notification.ts";

/** Always a POST with a JSON body. */
export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface DestinationConfig<Settings, Secret> {
  settings: Settings;
  secret: Secret;
}

/**
 * One product's alert format. Its settings and secret schemas are the admin API contract's
 * (shared/api/alert-destinations.ts), so what is validated at creation is what is sent.
 */
export interface Destination<Settings, Secret> {
  kind: DestinationKind;
  settings: z.ZodType<Settings>;
  secret: z.ZodType<Secret>;
  /** Where the URL lives in the configuration, for a validation error's `path`. */
  endpointPath: string;
  /** The URL requests go to; SSRF-checked when configured and again before each delivery. */
  endpoint(config: DestinationConfig<Settings, Secret>): string;
  request(notification: Notification, config: DestinationConfig<Settings, Secret>): Promise<OutboundRequest>;
}

export const JSON_HEADERS = { "content-type": "application/json", "user-agent": "Airlock-Alerts/1" } as const;
