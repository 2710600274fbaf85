import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ulid } from "ulid";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DestinationKind } from "../../../shared/api/alert-destinations.ts";
import { database, schema } from "../../../shared/db/index.ts";
import type { Env } from "../env.ts";
import { deliverAlerts } from "./consumer.ts";
import type { AlertQueueMessage } from "./notification.ts";
import { boxFor, hintOf, purposeOf } from "./store.ts";

const baseEnv = env as unknown as Env;
const db = database(baseEnv.DB);

/** The queue producer, captured: the consumer schedules rate-limit summaries through it. */
let queued: { body: unknown; delaySeconds?: number }[];
let testEnv: Env;

/** Outbound requests, answered by `answer` (200 by default). */
let requests: { url: string; headers: Record<string, string>; body: string }[];
let answer: (url: string) => Response | Promise<Response>;
let logLines: string[];

beforeEach(() => {
  queued = [];
  requests = [];
  logLines = [];
  answer = () => new Response("ok");
  testEnv = {
    ...baseEnv,
    // As deployed: a local .dev.vars (written by `npm start`) must not loosen the SSRF check here.
    ALLOW_PRIVATE_DESTINATIONS: "false",
    ALERTS: {
      send: async (body: unknown, options?: { delaySeconds?: number }) => void queued.push({ body, delaySeconds: options?.delaySeconds }),
    } as unknown as Env["ALERTS"],
  };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = String(input);
    requests.push({ url, headers: Object.fromEntries(new Headers(init?.headers).entries()), body: String(init?.body) });
    return answer(url);
  });
  for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation((line: string) => void logLines.push(line));
});
afterEach(() => vi.restoreAllMocks());

async function seedOrg() {
  const id = `org_${crypto.randomUUID().slice(0, 8)}`;
  await db.insert(schema.orgs).values({ id, slug: `acme-${id.slice(4)}`, name: "Acme", createdAt: Date.now() });
  return id;
}

async function seedDestination(
  orgId: string, kind: DestinationKind, settings: Record<string, unknown>, secret: Record<string, unknown>,
  options: { minSeverity?: number; enabled?: boolean; rateLimit?: number } = {},
) {
  const id = ulid();
  const box = await boxFor(testEnv, db, orgId);
  await db.insert(schema.alertDestinations).values({
    id, orgId, name: kind, kind,
    settings: { settings, rate_limit_per_minute: options.rateLimit ?? 20, secret_hint: hintOf(secret) },
    sealedSecret: await box.seal(JSON.stringify(secret), purposeOf(id)),
    minSeverity: options.minSeverity ?? 1, enabled: options.enabled ?? true, createdAt: Date.now(), updatedAt: Date.now(),
  });
  return id;
}

const SLACK_URL = "https://hooks.slack.com/services/T000/B000/SLACKSECRETTOKEN";
const HOOK_URL = "https://siem.example.com/hooks/airlock?token=HOOKSECRETTOKEN";
const SIGNING_SECRET = "SIGNINGSECRET".repeat(3);
const ROUTING_KEY = "PDROUTINGKEY0123456789abcdefabcd";

const alertFor = (orgId: string, fields: Partial<AlertQueueMessage> = {}): AlertQueueMessage => ({
  org_id: orgId, request_id: `req_${ulid()}`, time: Date.now(), direction: "prompt", action: "block", detector: "aws_access_key",
  category: "secret", score: 0.97, severity_id: 4, location: { start: 0, end: 20 },
  actor: { user_id: "usr_1", email: "ada@acme.test", client: "claude-code" }, ...fields,
});

/** Runs the consumer on one batch and returns what it acked and retried (with the delay it asked for). */
async function consume(bodies: unknown[], attempts = 1) {
  const explicitAcks: string[] = [];
  const retryMessages: { msgId: string; delaySeconds?: number }[] = [];
  const messages = bodies.map((body, i) => ({
    id: `m${i}`, timestamp: new Date(), body, attempts,
    ack: () => void explicitAcks.push(`m${i}`),
    retry: (options?: QueueRetryOptions) => void retryMessages.push({ msgId: `m${i}`, delaySeconds: options?.delaySeconds }),
  }));
  const batch = { queue: "airlock-alerts", messages, metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } }, ackAll() {}, retryAll() {} };
  const ctx = createExecutionContext();
  await deliverAlerts(batch, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return { explicitAcks, retryMessages };
}

describe("deliverAlerts", () => {
  it("sends an alert to every enabled destination at or above its min severity, and acks it", async () => {
    const org = await seedOrg();
    await seedDestination(org, "slack", {}, { webhook_url: SLACK_URL });
    await seedDestination(org, "webhook", {}, { url: HOOK_URL, signing_secret: SIGNING_SECRET }, { minSeverity: 5 });
    await seedDestination(org, "pagerduty", { events_url: "https://events.pagerduty.com/v2/enqueue" }, { routing_key: ROUTING_KEY }, { enabled: false });

    const result = await consume([alertFor(org)]);
    expect(requests.map((r) => r.url)).toEqual([SLACK_URL]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(result.retryMessages).toEqual([]);
    const line = JSON.parse(logLines.find((l) => l.includes('"delivered"'))!);
    expect(line).toMatchObject({ msg: "alert delivery", kind: "slack", outcome: "delivered", status: 200, attempt: 1, type: "guardrail.alert" });
  });

  it("acks and logs a message that is not an alert", async () => {
    const result = await consume([{ hello: "world" }]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(requests).toHaveLength(0);
    expect(logLines.some((l) => l.includes("invalid alert message"))).toBe(true);
  });

  it("sends one alert per detector and request: repeated findings of one request are deduplicated", async () => {
    const org = await seedOrg();
    await seedDestination(org, "slack", {}, { webhook_url: SLACK_URL });
    const first = alertFor(org);
    await consume([first, { ...first, location: { start: 40, end: 60 } }, { ...first, direction: "response" }]);
    await consume([{ ...first, location: { start: 80, end: 99 } }]);
    expect(requests).toHaveLength(1);
    await consume([alertFor(org)]);
    expect(requests).toHaveLength(2);
  });

  it("retries a 5xx with backoff, and on redelivery sends only to the destination that failed", async () => {
    const org = await seedOrg();
    await seedDestination(org, "slack", {}, { webhook_url: SLACK_URL });
    await seedDestination(org, "webhook", {}, { url: HOOK_URL, signing_secret: SIGNING_SECRET });
    const alert = alertFor(org);

    answer = (url) => (url === HOOK_URL ? new Response("down", { status: 503 }) : new Response("ok"));
    const first = await consume([alert], 1);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(4);
    expect(first.retryMessages[0]!.delaySeconds).toBeLessThanOrEqual(6);
    expect(first.explicitAcks).toEqual([]);

    answer = () => new Response(null, { status: 204 });
    const second = await consume([alert], 2);
    expect(second.explicitAcks).toEqual(["m0"]);
    expect(requests.map((r) => r.url).sort()).toEqual([HOOK_URL, HOOK_URL, SLACK_URL].sort());
    // The receiver can tell the retry is the same event.
    const hooks = requests.filter((r) => r.url === HOOK_URL);
    expect(hooks[0]!.headers["x-airlock-event-id"]).toBe(hooks[1]!.headers["x-airlock-event-id"]);
    expect(logLines.map((l) => JSON.parse(l)).filter((l) => l.kind === "webhook").map((l) => [l.outcome, l.status, l.attempt])).toEqual([
      ["retry", 503, 1], ["delivered", 204, 2],
    ]);
  });

  it("waits as long as a 429's Retry-After asks, and retries network errors and timeouts", async () => {
    const org = await seedOrg();
    await seedDestination(org, "slack", {}, { webhook_url: SLACK_URL });
    answer = () => new Response("rate_limited", { status: 429, headers: { "retry-after": "30" } });
    expect((await consume([alertFor(org)])).retryMessages).toEqual([{ msgId: "m0", delaySeconds: 30 }]);

    answer = () => Promise.reject(new TypeError("Network connection lost."));
    expect((await consume([alertFor(org)], 3)).retryMessages[0]!.delaySeconds).toBeGreaterThanOrEqual(36);

    answer = () => Promise.reject(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    expect((await consume([alertFor(org)])).retryMessages).toHaveLength(1);
    expect(logLines.some((l) => l.includes('"status":"timeout"'))).toBe(true);
  });

  it("acks a 4xx other than 429 (a retry gets the same answer) and a redirect (not followed)", async () => {
    const org = await seedOrg();
    await seedDestination(org, "slack", {}, { webhook_url: SLACK_URL });
    answer = () => new Response("invalid_token", { status: 403 });
    const refused = await consume([alertFor(org)]);
    expect(refused).toMatchObject({ explicitAcks: ["m0"], retryMessages: [] });
    answer = () => new Response(null, { status: 302, headers: { location: "http://169.254.169.254/" } });
    expect(await consume([alertFor(org)])).toMatchObject({ explicitAcks: ["m0"], retryMessages: [] });
    expect(requests).toHaveLength(2);
    expect(logLines.filter((l) => l.includes('"dropped"')).map((l) => JSON.parse(l).reason)).toEqual(["refused by the destination", "redirect not followed"]);
  });

  it("refuses to call a destination whose URL is private, even if it got into the database", async () => {
    const org = await seedOrg();
    await seedDestination(org, "webhook", {}, { url: "https://169.254.169.254/latest/meta-data", signing_secret: SIGNING_SECRET });
    const result = await consume([alertFor(org)]);
    expect(requests).toHaveLength(0);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(logLines.join("\n")).toContain("cloud metadata");
  });

  it("sends a test alert only to the destination it names, enabled or not", async () => {
    const org = await seedOrg();
    await seedDestination(org, "slack", {}, { webhook_url: SLACK_URL });
    const target = await seedDestination(org, "webhook", {}, { url: HOOK_URL, signing_secret: SIGNING_SECRET }, { enabled: false });
    await consume([alertFor(org, { detector: "airlock_test_alert", category: "custom", destination_id: target })]);
    expect(requests.map((r) => r.url)).toEqual([HOOK_URL]);
    expect(JSON.parse(requests[0]!.body)).toMatchObject({ type: "guardrail.test_alert" });
  });

  it("rate-limits per rule: beyond the limit alerts are counted and one summary is scheduled for the window's end", async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
    vi.spyOn(Date, "now").mockReturnValue(minute + 15_000);
    const org = await seedOrg();
    const destination = await seedDestination(org, "pagerduty", { events_url: "https://events.pagerduty.com/v2/enqueue" }, { routing_key: ROUTING_KEY }, { rateLimit: 2 });

    await consume(Array.from({ length: 5 }, () => alertFor(org)));
    await consume([alertFor(org), alertFor(org, { direction: "response" })]);
    // 2 prompt alerts, then the response alert (its own rule); 4 prompt alerts suppressed.
    expect(requests).toHaveLength(3);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.delaySeconds).toBe(46);
    expect(queued[0]!.body).toMatchObject({ destination_id: destination, suppressed_window: minute, detector: "aws_access_key", direction: "prompt" });

    vi.spyOn(Date, "now").mockReturnValue(minute + 61_000);
    const result = await consume([queued[0]!.body]);
    expect(result.explicitAcks).toEqual(["m0"]);
    const summary = JSON.parse(requests.at(-1)!.body);
    expect(summary.payload.summary).toMatch(/suppressed 4 more aws_access_key alerts in prompt .*over 2\/min/);
    expect(summary.dedup_key).toBe(`airlock:${org}:aws_access_key:prompt:suppressed:${minute}`);
    expect(summary.payload.custom_details.suppressed).toMatchObject({ count: 4, limit_per_minute: 2 });
  });

  it("logs no secret: no webhook URL, routing key, signing secret or token", async () => {
    const org = await seedOrg();
    await seedDestination(org, "slack", {}, { webhook_url: SLACK_URL });
    await seedDestination(org, "webhook", {}, { url: HOOK_URL, signing_secret: SIGNING_SECRET });
    await seedDestination(org, "pagerduty", { events_url: "https://events.pagerduty.com/v2/enqueue" }, { routing_key: ROUTING_KEY });
    answer = (url) => (url === SLACK_URL ? Promise.reject(new TypeError(`fetch to ${SLACK_URL} failed`)) : new Response("bad", { status: 400 }));
    await consume([alertFor(org)]);
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    for (const secret of ["SLACKSECRETTOKEN", "HOOKSECRETTOKEN", SIGNING_SECRET, ROUTING_KEY]) expect(logLines.join("\n")).not.toContain(secret);
  });
});
