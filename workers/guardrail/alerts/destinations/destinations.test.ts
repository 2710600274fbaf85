import { describe, expect, it } from "vitest";
import {
  DatadogSecret, DatadogSettings, PagerDutySecret, PagerDutySettings, SlackSecret, SplunkHecSecret, SplunkHecSettings, WebhookSecret,
} from "../../../../shared/api/alert-destinations.ts";
import { timingSafeEqualText, toHex } from "../../../../shared/crypto.ts";
import type { AlertMessage } from "../../../../shared/guardrail.ts";
import type { Notification } from "../notification.ts";
import { datadog } from "./datadog.ts";
import { pagerduty } from "./pagerduty.ts";
import { slack } from "./slack.ts";
import { splunkHec } from "./splunk-hec.ts";
import { webhook } from "./webhook.ts";

const alert: AlertMessage = {
  org_id: "org_1", request_id: "req_01J", time: Date.UTC(2026, 10, 25, 9, 30), direction: "tool_result", action: "block",
  detector: "aws_access_key", category: "secret", score: 0.97, severity_id: 4,
  location: { path: "/messages/2/content", start: 10, end: 30 },
  actor: { user_id: "usr_1", email: "ada@acme.test", client: "claude-code" },
};
const notification: Notification = { alert, org: { id: "org_1", slug: "acme" }, eventId: "evt_0123" };
const suppressed: Notification = {
  ...notification, eventId: "evt_sum",
  suppressed: { count: 37, limitPerMinute: 20, windowStart: alert.time, windowEnd: alert.time + 60_000 },
};
const body = async (request: { body: string }) => JSON.parse(request.body);

describe("slack", () => {
  const config = { settings: {}, secret: SlackSecret.parse({ webhook_url: "https://hooks.slack.com/services/T000/B000/XXXXSECRET" }) };

  it("posts Block Kit with a text fallback to the webhook URL", async () => {
    const request = await slack.request(notification, config);
    expect(request.url).toBe(config.secret.webhook_url);
    expect(request.headers["content-type"]).toBe("application/json");
    const message = await body(request);
    expect(message.text).toBe("Airlock blocked secret (aws_access_key) in tool_result for acme");
    expect(message.blocks.map((b: { type: string }) => b.type)).toEqual(["header", "section", "context"]);
    expect(message.blocks[0].text).toEqual({ type: "plain_text", text: message.text });
    expect(message.blocks[1].fields).toContainEqual({ type: "mrkdwn", text: "*Detector*\naws_access_key" });
    expect(message.blocks[1].fields).toContainEqual({ type: "mrkdwn", text: "*Location*\n/messages/2/content[10, 30)" });
    expect(message.blocks[1].fields.length).toBeLessThanOrEqual(10);
    expect(message.blocks[2].elements[0].text).toContain("req_01J");
  });

  it("escapes Slack's control characters in values it did not write", async () => {
    const hostile = { ...notification, alert: { ...alert, actor: { ...alert.actor, email: "<!channel> <https://evil.test|click>" } } };
    const message = await body(await slack.request(hostile, config));
    const text = JSON.stringify(message.blocks);
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt;");
  });

  it("says how many alerts a summary stands for", async () => {
    const message = await body(await slack.request(suppressed, config));
    expect(message.text).toContain("suppressed 37 more aws_access_key alerts");
    expect(message.blocks[1].fields).toContainEqual({ type: "mrkdwn", text: "*Suppressed*\n37" });
  });
});

describe("pagerduty", () => {
  const config = { settings: PagerDutySettings.parse({}), secret: PagerDutySecret.parse({ routing_key: "R0UTINGKEY0123456789abcdef0123456" }) };

  it("triggers an Events API v2 event with a per-request dedup key", async () => {
    const request = await pagerduty.request(notification, config);
    expect(request.url).toBe("https://events.pagerduty.com/v2/enqueue");
    const event = await body(request);
    expect(event).toMatchObject({
      routing_key: config.secret.routing_key,
      event_action: "trigger",
      dedup_key: "airlock:org_1:aws_access_key:req_01J",
      payload: {
        summary: "Airlock blocked secret (aws_access_key) in tool_result for acme",
        source: "airlock:acme",
        severity: "error",
        timestamp: "2026-11-25T09:30:00.000Z",
        component: "tool_result",
        group: "secret",
        class: "aws_access_key",
        custom_details: { id: "evt_0123", type: "guardrail.alert", alert: { request_id: "req_01J", severity: "high" } },
      },
    });
    expect(event.dedup_key.length).toBeLessThanOrEqual(255);
  });

  it.each([[1, "info"], [2, "info"], [3, "warning"], [4, "error"], [5, "critical"], [6, "critical"]])("maps OCSF severity %i to %s", async (severity_id, severity) => {
    const event = await body(await pagerduty.request({ ...notification, alert: { ...alert, severity_id } }, config));
    expect(event.payload.severity).toBe(severity);
  });

  it("honours an overridden events URL", async () => {
    const custom = { ...config, settings: PagerDutySettings.parse({ events_url: "https://pd-proxy.example.com/v2/enqueue" }) };
    expect((await pagerduty.request(notification, custom)).url).toBe("https://pd-proxy.example.com/v2/enqueue");
  });
});

describe("webhook", () => {
  const signingSecret = "whsec_" + "k".repeat(40);
  const config = { settings: {}, secret: WebhookSecret.parse({ url: "https://siem.example.com/hooks/airlock", signing_secret: signingSecret }) };

  /** What a receiver does: parse the header, recompute the HMAC over "<t>.<raw body>", compare in constant time, refuse stale timestamps. */
  async function verify(rawBody: string, header: string, secret: string, toleranceSeconds = 300): Promise<boolean> {
    const parts = Object.fromEntries(header.split(",").map((kv) => kv.split("=") as [string, string]));
    const t = Number(parts.t);
    if (!Number.isInteger(t) || !parts.v1 || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.${rawBody}`))));
    return timingSafeEqualText(expected, parts.v1);
  }

  it("posts the alert event, signed, with its event id", async () => {
    const request = await webhook.request(notification, config);
    expect(request.url).toBe(config.secret.url);
    expect(request.headers["x-airlock-event-id"]).toBe("evt_0123");
    expect(request.headers["x-airlock-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verify(request.body, request.headers["x-airlock-signature"]!, signingSecret)).toBe(true);
    expect(await body(request)).toMatchObject({
      id: "evt_0123", type: "guardrail.alert", time: "2026-11-25T09:30:00.000Z", org: { id: "org_1", slug: "acme" },
      alert: { detector: "aws_access_key", category: "secret", action: "block", severity_id: 4, location: { start: 10, end: 30 } },
    });
  });

  it("fails verification for a changed body, another secret or a replayed old timestamp", async () => {
    const request = await webhook.request(notification, config);
    const header = request.headers["x-airlock-signature"]!;
    expect(await verify(request.body.replace("block", "alert"), header, signingSecret)).toBe(false);
    expect(await verify(request.body, header, "whsec_" + "x".repeat(40))).toBe(false);
    expect(await verify(request.body, header, signingSecret, -1)).toBe(false);
  });
});

describe("splunk_hec", () => {
  const secret = SplunkHecSecret.parse({ token: "11111111-2222-3333-4444-555555555555" });

  it("posts a JSON event to /services/collector/event with the Splunk token", async () => {
    const config = { settings: SplunkHecSettings.parse({ url: "https://splunk.example.com:8088", index: "security" }), secret };
    const request = await splunkHec.request(notification, config);
    expect(request.url).toBe("https://splunk.example.com:8088/services/collector/event");
    expect(request.headers.authorization).toBe(`Splunk ${secret.token}`);
    expect(await body(request)).toMatchObject({
      time: alert.time / 1000, host: "airlock", source: "airlock", sourcetype: "airlock:alert", index: "security",
      event: { id: "evt_0123", type: "guardrail.alert", alert: { detector: "aws_access_key" } },
    });
  });

  it("accepts a base URL that already ends in the collector path, and leaves out an unset index", async () => {
    const config = { settings: SplunkHecSettings.parse({ url: "https://hec.example.com/services/collector/event/" }), secret };
    const request = await splunkHec.request(notification, config);
    expect(request.url).toBe("https://hec.example.com/services/collector/event");
    expect(await body(request)).not.toHaveProperty("index");
  });
});

describe("datadog", () => {
  const secret = DatadogSecret.parse({ api_key: "dd0123456789abcdef0123456789abcd" });

  it("posts one log item to the site's v2 intake with the API key", async () => {
    const config = { settings: DatadogSettings.parse({ site: "datadoghq.eu", tags: ["env:prod"] }), secret };
    const request = await datadog.request(notification, config);
    expect(request.url).toBe("https://http-intake.logs.datadoghq.eu/api/v2/logs");
    expect(request.headers["dd-api-key"]).toBe(secret.api_key);
    const items = await body(request);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      ddsource: "airlock", hostname: "airlock", service: "airlock", status: "error",
      message: "Airlock blocked secret (aws_access_key) in tool_result for acme",
      airlock: { id: "evt_0123", alert: { detector: "aws_access_key" } },
    });
    expect(items[0].ddtags.split(",")).toEqual(expect.arrayContaining(["org:acme", "detector:aws_access_key", "category:secret", "action:block", "env:prod"]));
  });

  it("uses the intake URL override", async () => {
    const config = { settings: DatadogSettings.parse({ intake_url: "https://dd-proxy.example.com/api/v2/logs" }), secret };
    expect((await datadog.request(notification, config)).url).toBe("https://dd-proxy.example.com/api/v2/logs");
  });
});

describe("every destination", () => {
  it("puts no secret of its own configuration in the body, except PagerDuty's routing key where the API requires it", async () => {
    const slackReq = await slack.request(notification, { settings: {}, secret: { webhook_url: "https://hooks.slack.com/services/T/B/SLACKTOKEN" } });
    expect(slackReq.body).not.toContain("SLACKTOKEN");
    const hook = await webhook.request(notification, { settings: {}, secret: { url: "https://x.example.com/h?token=URLTOKEN", signing_secret: "S".repeat(40) } });
    expect(hook.body).not.toContain("URLTOKEN");
    expect(JSON.stringify(hook.headers)).not.toContain("S".repeat(40));
    const hec = await splunkHec.request(notification, { settings: SplunkHecSettings.parse({ url: "https://h.example.com" }), secret: { token: "HECTOKEN" } });
    expect(hec.body).not.toContain("HECTOKEN");
    const dd = await datadog.request(notification, { settings: DatadogSettings.parse({}), secret: { api_key: "DDKEY" } });
    expect(dd.body).not.toContain("DDKEY");
  });
});
