import { WebhookSecret, WebhookSettings } from "../../../../shared/api/alert-destinations.ts";
import { toHex } from "../../../../shared/crypto.ts";
import { eventOf } from "../notification.ts";
import { JSON_HEADERS, type Destination } from "./types.ts";

const encoder = new TextEncoder();

/**
 * Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The timestamp is
 * signed with the body, so a receiver that refuses old timestamps refuses replays.
 */
async function signatureHeader(signingSecret: string, body: string, unixSeconds: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(signingSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${unixSeconds}.${body}`));
  return `t=${unixSeconds},v1=${toHex(new Uint8Array(mac))}`;
}

const endpoint = ({ secret }: { secret: WebhookSecret }) => secret.url;

/** Generic webhook: the alert event as JSON, signed; `X-Airlock-Event-Id` is the same on every retry. */
export const webhook: Destination<WebhookSettings, WebhookSecret> = {
  kind: "webhook",
  settings: WebhookSettings,
  secret: WebhookSecret,
  endpointPath: "secret.url",
  endpoint,
  async request(notification, config) {
    const body = JSON.stringify(eventOf(notification));
    return {
      url: endpoint(config),
      headers: {
        ...JSON_HEADERS,
        "x-airlock-event-id": notification.eventId,
        "x-airlock-signature": await signatureHeader(config.secret.signing_secret, body, Math.floor(Date.now() / 1000)),
      },
      body,
    };
  },
};
