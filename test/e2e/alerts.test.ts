import { createHmac, timingSafeEqual } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlertReceivers, type AlertReceivers, type ReceivedRequest } from "../fixtures/alert-receivers.ts";
import { startMesh, type Mesh } from "./mesh.ts";

type Org = Awaited<ReturnType<Mesh["createOrg"]>>;
type Answer = { json(): Promise<unknown> };
const json = async <T = any>(res: Answer | Promise<Answer>) => (await (await res).json()) as T;

let mesh: Mesh;
let receivers: AlertReceivers;
let acme: Org;
let globex: Org;

// Secrets are built at run time so that they are unique and easy to search for.
const unique = () => crypto.randomUUID().replaceAll("-", "");
const SLACK_TOKEN = `slk${unique()}`;
const ROUTING_KEY = unique();
const HOOK_TOKEN = `hook${unique()}`;
const SIGNING_SECRET = `whsec_${unique()}${unique()}`;
const HEC_TOKEN = crypto.randomUUID();
const DD_API_KEY = `dd${unique()}`;
const SECRETS = [SLACK_TOKEN, ROUTING_KEY, HOOK_TOKEN, SIGNING_SECRET, HEC_TOKEN, DD_API_KEY];

beforeAll(async () => {
  receivers = await startAlertReceivers();
  mesh = await startMesh();
  [acme, globex] = await Promise.all([mesh.createOrg("acme"), mesh.createOrg("globex")]);
});
afterAll(async () => {
  await mesh?.close();
  await receivers?.close();
});

/** One destination of each kind, on receiver paths under `prefix`. */
const destinationsAt = (prefix: string) => [
  { kind: "slack", name: "security channel", secret: { webhook_url: `${receivers.url}/slack${prefix}/services/T0/B0/${SLACK_TOKEN}` } },
  { kind: "pagerduty", name: "on-call", settings: { events_url: `${receivers.url}/pagerduty${prefix}/v2/enqueue` }, secret: { routing_key: ROUTING_KEY } },
  { kind: "webhook", name: "soar", secret: { url: `${receivers.url}/hooks${prefix}?token=${HOOK_TOKEN}`, signing_secret: SIGNING_SECRET } },
  { kind: "splunk_hec", name: "splunk", settings: { url: `${receivers.url}/splunk${prefix}`, index: "airlock" }, secret: { token: HEC_TOKEN } },
  { kind: "datadog", name: "datadog", settings: { intake_url: `${receivers.url}/datadog${prefix}/api/v2/logs`, tags: ["env:e2e"] }, secret: { api_key: DD_API_KEY } },
];

async function create(org: Org, body: unknown) {
  const res = await org.api("/alert-destinations", { method: "POST", json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

const sendTest = (org: Org, id: string, body?: unknown) =>
  org.api(`/alert-destinations/${id}/test`, { method: "POST", ...(body === undefined ? {} : { json: body }) });

/** What a receiver does with `X-Airlock-Signature`: recompute the HMAC of "<t>.<raw body>", compare in constant time, refuse old timestamps. */
function verifySignature(request: ReceivedRequest, secret: string): boolean {
  const header = String(request.headers["x-airlock-signature"] ?? "");
  const { t, v1 } = Object.fromEntries(header.split(",").map((part) => part.split("="))) as { t?: string; v1?: string };
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${request.body}`).digest();
  const given = Buffer.from(v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const expectNoSecret = (text: string) => {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

describe("alert destinations API", () => {
  it("creates every kind, and never returns a secret, only a hint", async () => {
    for (const body of destinationsAt("/api")) {
      const created = await create(acme, body);
      expect(created).toMatchObject({ kind: body.kind, name: body.name, enabled: true, min_severity: 1, rate_limit_per_minute: 20 });
      expect(created).not.toHaveProperty("secret");
      const [field, value] = Object.entries(body.secret)[0]!;
      expect(created.secret_hint[field]).toBe(`…${value.slice(-4)}`);
      expectNoSecret(JSON.stringify(created));
      expectNoSecret(JSON.stringify(await json(acme.api(`/alert-destinations/${created.id}`))));
    }
    const listed = await json(acme.api("/alert-destinations?limit=200"));
    expect(listed.data.length).toBeGreaterThanOrEqual(5);
    expectNoSecret(JSON.stringify(listed));
    expect(listed.data.find((d: any) => d.kind === "pagerduty").settings).toEqual({ events_url: `${receivers.url}/pagerduty/api/v2/enqueue` });
  });

  it("refuses URLs with credentials or other schemes, and settings of another kind, with 422", async () => {
    const withUserinfo = await acme.api("/alert-destinations", {
      method: "POST", json: { kind: "webhook", name: "x", secret: { url: "https://user:pass@hooks.example.com/x", signing_secret: SIGNING_SECRET } },
    });
    expect(withUserinfo.status).toBe(422);
    const problem = await json(withUserinfo);
    expect(problem).toMatchObject({ code: "validation_failed", errors: [{ path: "secret.url", message: "must not contain a user name or password" }] });
    expect(JSON.stringify(problem)).not.toContain("pass@");

    const ftp = await acme.api("/alert-destinations", { method: "POST", json: { kind: "slack", name: "x", secret: { webhook_url: "ftp://hooks.example.com/x" } } });
    expect(ftp.status).toBe(422);
    const mixed = await acme.api("/alert-destinations", { method: "POST", json: { kind: "slack", name: "x", settings: { site: "datadoghq.eu" }, secret: { webhook_url: "https://hooks.example.com/x" } } });
    expect(mixed.status).toBe(422);
  });

  it("updates, rotates a secret without returning it, and deletes", async () => {
    const hook = await create(acme, destinationsAt("/patch")[2]);
    const rotated = `whsec_${unique()}${unique()}`;
    const res = await acme.api(`/alert-destinations/${hook.id}`, { method: "PATCH", json: { name: "soar v2", min_severity: 4, enabled: false, secret: { signing_secret: rotated } } });
    expect(res.status).toBe(200);
    const updated = await json(res);
    expect(updated).toMatchObject({ name: "soar v2", min_severity: 4, enabled: false });
    expect(updated.secret_hint).toEqual({ url: `…${HOOK_TOKEN.slice(-4)}`, signing_secret: `…${rotated.slice(-4)}` });
    expect(JSON.stringify(updated)).not.toContain(rotated);

    const badSettings = await acme.api(`/alert-destinations/${hook.id}`, { method: "PATCH", json: { settings: { events_url: "https://x.example.com" } } });
    expect(badSettings.status).toBe(422);
    expect(await json(badSettings)).toMatchObject({ code: "validation_failed", errors: [{ path: "settings" }] });

    expect((await acme.api(`/alert-destinations/${hook.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await acme.api(`/alert-destinations/${hook.id}`)).status).toBe(404);
  });

  it("keeps each org's destinations to itself", async () => {
    const hook = await create(acme, destinationsAt("/tenancy")[2]);
    expect((await globex.api(`/alert-destinations/${hook.id}`)).status).toBe(404);
    expect((await sendTest(globex, hook.id)).status).toBe(404);
    expect((await globex.api(`/alert-destinations/${hook.id}`, { method: "DELETE" })).status).toBe(404);
    expect(JSON.stringify(await json(globex.api("/alert-destinations")))).not.toContain(hook.id);
  });
});

describe("delivery through the queue", () => {
  it("delivers a test alert to each kind in its product's format", async () => {
    const created = [];
    for (const body of destinationsAt("/fmt")) created.push(await create(acme, body));
    const queued = [];
    for (const destination of created) {
      const res = await sendTest(acme, destination.id);
      expect(res.status).toBe(202);
      queued.push(await json(res));
    }
    expect(queued[0]).toMatchObject({ request_id: expect.any(String), severity_id: 4 });

    const [slack] = await receivers.waitFor("/slack/fmt");
    expect(slack!.status).toBe(200);
    const message = JSON.parse(slack!.body);
    expect(message.text).toContain("Airlock test alert for acme");
    expect(message.blocks[0].type).toBe("header");

    const [pagerduty] = await receivers.waitFor("/pagerduty/fmt");
    expect(pagerduty!.status).toBe(202);
    expect(JSON.parse(pagerduty!.body)).toMatchObject({
      routing_key: ROUTING_KEY, event_action: "trigger", dedup_key: `airlock:${acme.id}:airlock_test_alert:${queued[1].request_id}`,
      payload: { source: "airlock:acme", severity: "error", class: "airlock_test_alert", custom_details: { type: "guardrail.test_alert" } },
    });

    const [hook] = await receivers.waitFor("/hooks/fmt");
    expect(hook!.headers["content-type"]).toBe("application/json");
    expect(hook!.headers["x-airlock-event-id"]).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(verifySignature(hook!, SIGNING_SECRET)).toBe(true);
    expect(verifySignature({ ...hook!, body: hook!.body.replace("acme", "evil") }, SIGNING_SECRET)).toBe(false);
    expect(JSON.parse(hook!.body)).toMatchObject({
      id: hook!.headers["x-airlock-event-id"], type: "guardrail.test_alert", org: { id: acme.id, slug: "acme" },
      alert: { request_id: queued[2].request_id, detector: "airlock_test_alert", category: "custom", severity_id: 4 },
    });

    const [hec] = await receivers.waitFor("/splunk/fmt");
    expect(hec!.path).toBe("/splunk/fmt/services/collector/event");
    expect(hec!.headers.authorization).toBe(`Splunk ${HEC_TOKEN}`);
    expect(hec!.status).toBe(200);
    expect(JSON.parse(hec!.body)).toMatchObject({ host: "airlock", source: "airlock", sourcetype: "airlock:alert", index: "airlock", event: { type: "guardrail.test_alert" } });

    const [datadog] = await receivers.waitFor("/datadog/fmt");
    expect(datadog!.headers["dd-api-key"]).toBe(DD_API_KEY);
    expect(datadog!.status).toBe(202);
    const [log] = JSON.parse(datadog!.body);
    expect(log).toMatchObject({ ddsource: "airlock", hostname: "airlock", service: "airlock", status: "error" });
    expect(log.ddtags).toContain("env:e2e");

    // Each secret goes only where its product expects it: never in a body (PagerDuty's routing key aside, which the API requires there).
    for (const request of [slack!, hook!, hec!, datadog!]) expectNoSecret(request.body);
  });

  it("retries a destination that answers 500, then delivers the same signed event", async () => {
    receivers.failNext("/hooks/retry", 1, 500);
    const hook = await create(acme, destinationsAt("/retry")[2]);
    expect((await sendTest(acme, hook.id)).status).toBe(202);
    const [failed, delivered] = await receivers.waitFor("/hooks/retry", 2, 30_000);
    expect([failed!.status, delivered!.status]).toEqual([500, 200]);
    expect(delivered!.headers["x-airlock-event-id"]).toBe(failed!.headers["x-airlock-event-id"]);
    expect(verifySignature(delivered!, SIGNING_SECRET)).toBe(true);
    expect(JSON.parse(delivered!.body).alert).toEqual(JSON.parse(failed!.body).alert);
  });

  it("sends nothing to a destination below its min severity", async () => {
    const critical = await create(acme, { ...destinationsAt("/critical")[2], min_severity: 5 });
    expect((await sendTest(acme, critical.id, { severity_id: 3 })).status).toBe(202);
    // Alerts are sent in order on one queue: once the critical one arrives, the medium one has been judged.
    expect((await sendTest(acme, critical.id, { severity_id: 5 })).status).toBe(202);
    await receivers.waitFor("/hooks/critical");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receivers.requests("/hooks/critical").map((r) => JSON.parse(r.body).alert.severity_id)).toEqual([5]);
  });

  it("alerts on a real finding, once per request and destination, without the matched value", async () => {
    const org = await mesh.createOrg("initech");
    const keyword = `nightingale-${unique().slice(0, 8)}`;
    const detector = await json(org.api("/guardrails/custom-detectors", { method: "POST", json: { name: "codename", kind: "keywords", keywords: [keyword] } }));
    const bodies = destinationsAt("/scan");
    for (const body of bodies) await create(org, body);
    // Custom detectors alert by default (OCSF medium, 3): a destination that wants critical only hears nothing.
    await create(org, { ...bodies[2], name: "critical only", min_severity: 5, secret: { ...bodies[2]!.secret, url: `${receivers.url}/hooks/scan-critical` } });

    const res = await org.api("/guardrails/scan", {
      method: "POST", json: { direction: "tool_result", text: `roadmap: ${keyword} ships in Q3; ${keyword} is confidential`, dry_run: false },
    });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id");
    const result = await json(res);
    expect(result.findings.filter((f: any) => f.detector === detector.detector_id)).toHaveLength(2);

    for (const prefix of ["/slack/scan", "/pagerduty/scan", "/hooks/scan?", "/splunk/scan", "/datadog/scan"]) await receivers.waitFor(prefix);
    const hook = receivers.requests("/hooks/scan?")[0]!;
    expect(verifySignature(hook, SIGNING_SECRET)).toBe(true);
    expect(JSON.parse(hook.body)).toMatchObject({
      type: "guardrail.alert",
      alert: { request_id: requestId, detector: detector.detector_id, category: "custom", action: "alert", direction: "tool_result", severity_id: 3 },
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Two findings of one detector in one request: one alert per destination.
    for (const prefix of ["/slack/scan", "/pagerduty/scan", "/hooks/scan?", "/splunk/scan", "/datadog/scan"]) {
      expect(receivers.requests(prefix), prefix).toHaveLength(1);
    }
    expect(receivers.requests("/hooks/scan-critical")).toHaveLength(0);
    for (const request of receivers.requests("/")) expect(request.body).not.toContain(keyword);
  });

  it("rate-limits per rule and sends one summary of what it suppressed when the minute is over", { timeout: 120_000 }, async () => {
    const hook = await create(acme, { ...destinationsAt("/limited")[2], rate_limit_per_minute: 1 });
    // The limit counts per clock minute: send all three well inside one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    for (let i = 0; i < 3; i++) expect((await sendTest(acme, hook.id)).status).toBe(202);
    const [first] = await receivers.waitFor("/hooks/limited");
    expect(JSON.parse(first!.body).type).toBe("guardrail.test_alert");
    const [, summary] = await receivers.waitFor("/hooks/limited", 2, 75_000);
    expect(JSON.parse(summary!.body)).toMatchObject({ type: "guardrail.alerts_suppressed", suppressed: { count: 2, limit_per_minute: 1 } });
    expect(verifySignature(summary!, SIGNING_SECRET)).toBe(true);
    expect(receivers.requests("/hooks/limited")).toHaveLength(2);
  });
});
