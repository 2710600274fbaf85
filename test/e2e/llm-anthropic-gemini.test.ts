import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEventOf, findingEventsOf, gatewayOrg, meshFetch, PROVIDER_KEYS } from "../fixtures/providers/org.ts";
import { ANSWER, USAGE, startProviderFixture } from "../fixtures/providers/server.ts";
import { startMesh, type Mesh } from "./mesh.ts";

// The model gateway through the real `@anthropic-ai/sdk`, raw fetch for Gemini, and guardrails on both directions.
let mesh: Mesh;
let fixture: Awaited<ReturnType<typeof startProviderFixture>>;
let org: Awaited<ReturnType<typeof gatewayOrg>>;
let claude: Anthropic;

// Built at run time so no scanner mistakes the test file for a leak.
const AWS_KEY = ["AKIA", "Z7QK", "3MWX", "P5RT", "2VNB"].join("");

beforeAll(async () => {
  [mesh, fixture] = await Promise.all([startMesh(), startProviderFixture()]);
  org = await gatewayOrg(mesh, "gw-anthropic", fixture.url);
  const anthropic = await org.provider("anthropic", "anthropic", PROVIDER_KEYS.anthropic);
  const gemini = await org.provider("gemini", "gemini", PROVIDER_KEYS.gemini);
  await org.model("claude-sonnet-4-5", [{ provider_id: anthropic.id, model: "claude-sonnet-4-5-20250929" }], { aliases: ["smart"] });
  await org.model("claude-cut", [{ provider_id: anthropic.id, model: "claude-cut" }]);
  await org.model("claude-echo", [{ provider_id: anthropic.id, model: "claude-echo" }]);
  await org.model("gemini-2.5-flash", [{ provider_id: gemini.id, model: "gemini-2.5-flash" }], { price: { input: 1, output: 2 } });
  await org.model("gemini-cut", [{ provider_id: gemini.id, model: "gemini-cut" }]);
  claude = new Anthropic({ apiKey: org.apiKey, baseURL: `https://${org.host}/llm/anthropic`, fetch: meshFetch(mesh), maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all([mesh?.close(), fixture?.close()]);
});

const lastUpstream = () => fixture.requests.at(-1)!;
const requestIdOf = (response: { headers: { get(name: string): string | null } }) => response.headers.get("x-request-id")!;

describe("Anthropic Messages", () => {
  it("answers with the org's key in x-api-key, never the agent's", async () => {
    const message = await claude.messages.create({ model: "smart", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    expect(message.content).toEqual([{ type: "text", text: ANSWER.join("") }]);
    const upstream = lastUpstream();
    expect(upstream.path).toBe("/v1/messages");
    expect(upstream.headers["x-api-key"]).toBe(PROVIDER_KEYS.anthropic);
    expect(upstream.headers["anthropic-version"]).toBeTruthy();
    expect(JSON.stringify(upstream.headers)).not.toContain(org.apiKey);
    expect(JSON.parse(upstream.body).model).toBe("claude-sonnet-4-5-20250929");
  });

  it("streams text, and records usage from message_start and message_delta after the stream", async () => {
    const stream = claude.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const { response } = await stream.withResponse();
    const final = await stream.finalMessage();
    expect(texts).toEqual(ANSWER);
    expect(final.usage).toMatchObject({ output_tokens: USAGE.output, cache_read_input_tokens: USAGE.cached });
    const event = await callEventOf(org, requestIdOf(response));
    expect(event).toMatchObject({
      "gen_ai.provider.name": "anthropic",
      "gen_ai.response.model": "claude-sonnet-4-5-20250929",
      "gen_ai.usage.input_tokens": USAGE.input,
      "gen_ai.usage.output_tokens": USAGE.output,
      "gen_ai.usage.cache_read.input_tokens": USAGE.cached,
      "airlock.llm.streamed": true,
      // claude-sonnet-4-5: $3 / $15 / $0.30 per Mtok → 8×3 + 3×0.3 + 7×15 = 129.9 µ$
      "airlock.cost_micros": 130,
    });
  });

  it("returns tool use, streamed and whole", async () => {
    const tools = [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }];
    const whole = await claude.messages.create({ model: "smart", max_tokens: 100, tools, messages: [{ role: "user", content: "weather?" }] });
    expect(whole.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
    const streamed = await claude.messages.stream({ model: "smart", max_tokens: 100, tools, messages: [{ role: "user", content: "weather?" }] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
  });

  it("counts tokens without billing", async () => {
    const counted = await claude.messages.countTokens({ model: "smart", messages: [{ role: "user", content: "hi" }] });
    expect(counted.input_tokens).toBe(USAGE.input);
  });

  it("ends a cut stream with an Anthropic error event", async () => {
    const error = await claude.messages.stream({ model: "claude-cut", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }).finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(String(error)).toContain("interrupted");
  });

  it("answers an unknown model and a missing key in Anthropic's error format with the request id", async () => {
    const error = (await claude.messages.create({ model: "claude-9", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error.error).toMatchObject({ type: "error", error: { type: "not_found_error" }, request_id: expect.stringMatching(/^[0-9A-Z]{26}$/) });
    const anonymous = await mesh.request(org.host, "/llm/anthropic/v1/messages", { method: "POST", json: { model: "smart", max_tokens: 10, messages: [] } });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });
});

describe("guardrails on the model path", () => {
  it("redacts a secret in the prompt before it reaches the provider, and records the finding", async () => {
    const { response } = await claude.messages.create({ model: "smart", max_tokens: 10, messages: [{ role: "user", content: `deploy with ${AWS_KEY}` }] }).withResponse();
    const upstream = lastUpstream().body;
    expect(upstream).not.toContain(AWS_KEY);
    expect(JSON.parse(upstream).messages[0].content).toBe("deploy with [AWS_KEY_1]");
    const findings = await findingEventsOf(org, requestIdOf(response));
    expect(findings.map((e) => [e.airlock.detector, e.airlock.direction, e.airlock.action])).toContainEqual(["aws_access_key", "prompt", "redact"]);
    expect(JSON.stringify(findings)).not.toContain(AWS_KEY);
  });

  it("never sends a blocked prompt to the provider", async () => {
    const rule = await org.api("/guardrails/rules", { method: "POST", json: { detector: "email", directions: ["prompt"], action: "block" } });
    expect(rule.status).toBe(201);
    const before = fixture.requests.length;
    const error = (await claude.messages.create({ model: "smart", max_tokens: 10, messages: [{ role: "user", content: "mail ada@acme.example" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.error).toMatchObject({ error: { type: "invalid_request_error", message: expect.stringContaining("guardrails") } });
    expect(fixture.requests.length).toBe(before);
    await org.api(`/guardrails/rules/${((await rule.json()) as { id: string }).id}`, { method: "DELETE" });
  });

  it("redacts the answer, whole and streamed", async () => {
    const secret = `the key is ${AWS_KEY} ok`;
    const whole = await claude.messages.create({ model: "claude-echo", max_tokens: 10, messages: [{ role: "assistant", content: "x" }, { role: "user", content: secret }] });
    expect(JSON.stringify(whole)).not.toContain(AWS_KEY);
    const streamed = claude.messages.stream({ model: "claude-echo", max_tokens: 10, messages: [{ role: "user", content: secret }] });
    const text = (await streamed.finalMessage()).content.map((b) => (b.type === "text" ? b.text : "")).join("");
    expect(text).not.toContain(AWS_KEY);
    expect(text).toContain("[AWS_KEY_1]");
  });
});

describe("guardrails that block an answer", () => {
  it("withhold a whole answer and end a streamed one with an Anthropic error event", async () => {
    const rule = await org.api("/guardrails/rules", { method: "POST", json: { detector: "email", directions: ["response"], action: "block" } });
    expect(rule.status).toBe(201);
    const request = { model: "claude-echo", max_tokens: 10, messages: [{ role: "user" as const, content: "write to ada@acme.example now" }] };
    const whole = (await claude.messages.create(request).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(whole).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(JSON.stringify(whole.error)).not.toContain("ada@acme.example");
    const streamed = await claude.messages.stream(request).finalMessage().catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(Anthropic.APIError);
    await org.api(`/guardrails/rules/${((await rule.json()) as { id: string }).id}`, { method: "DELETE" });
  });
});

describe("Gemini", () => {
  const path = (model: string, method: string, query = "") => `/llm/gemini/v1beta/models/${model}:${method}${query}`;
  const body = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };

  it("generates with x-goog-api-key or ?key=, the org's key upstream and the agent's key removed", async () => {
    for (const [headers, query] of [[{ "x-goog-api-key": org.apiKey }, ""], [{}, `?key=${org.apiKey}`]] as const) {
      const res = await mesh.request(org.host, path("gemini-2.5-flash", "generateContent", query), { method: "POST", headers, json: body });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as any;
      expect(answer.candidates[0].content.parts[0].text).toBe(ANSWER.join(""));
      expect(lastUpstream().headers["x-goog-api-key"]).toBe(PROVIDER_KEYS.gemini);
      expect(lastUpstream().path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    }
  });

  it("streams SSE and prices usageMetadata with the org's override", async () => {
    const res = await mesh.request(org.host, path("gemini-2.5-flash", "streamGenerateContent", "?alt=sse"), { method: "POST", headers: { "x-goog-api-key": org.apiKey }, json: body });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const chunks = text.split(/\r?\n\r?\n/).filter(Boolean).map((e) => JSON.parse(e.replace(/^data: /, "")));
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join("")).toBe(ANSWER.join(""));
    const event = await callEventOf(org, requestIdOf(res));
    // Override $1 in / $2 out per Mtok, no cached rate → 11×1 + 7×2 = 25 µ$
    expect(event).toMatchObject({ "gen_ai.provider.name": "gcp.gemini", "gen_ai.usage.input_tokens": USAGE.input, "airlock.cost_micros": 25, "airlock.llm.streamed": true });
  });

  it("ends a cut stream with a Gemini error chunk, and refuses an unknown model in Gemini's format", async () => {
    const cut = await mesh.request(org.host, path("gemini-cut", "streamGenerateContent", "?alt=sse"), { method: "POST", headers: { "x-goog-api-key": org.apiKey }, json: body });
    const last = (await cut.text()).trim().split(/\r?\n\r?\n/).at(-1)!;
    expect(JSON.parse(last.replace(/^data: /, ""))).toMatchObject({ error: { status: "UNAVAILABLE" } });
    const unknown = await mesh.request(org.host, path("gemini-9", "generateContent"), { method: "POST", headers: { "x-goog-api-key": org.apiKey }, json: body });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND", message: expect.stringContaining(requestIdOf(unknown)) } });
  });
});

describe("limits and budgets on the model path", () => {
  it("answers 429 in Anthropic's format with retry-after once a key's limit is used, and settles the real cost", async () => {
    const user = (await (await org.api("/users", { method: "POST", json: { email: "limited@gw-anthropic.test" } })).json()) as { id: string };
    const key = (await (await org.api("/api-keys", { method: "POST", json: { name: "limited", user_id: user.id } })).json()) as { id: string; secret: string };
    const rule = await org.api("/limits", { method: "POST", json: { scope: "key", scope_id: key.id, requests_per_minute: 1, usd_per_day: 1 } });
    expect(rule.status).toBe(201);
    const limited = new Anthropic({ apiKey: key.secret, baseURL: `https://${org.host}/llm/anthropic`, fetch: meshFetch(mesh), maxRetries: 0 });
    const request = { model: "smart", max_tokens: 100, messages: [{ role: "user" as const, content: "hi" }] };
    await limited.messages.create(request);
    const before = fixture.requests.length;
    const error = (await limited.messages.create(request).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.headers?.get("retry-after")).toMatch(/^\d+$/);
    expect(error.error).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    expect(fixture.requests.length).toBe(before);
    // The reservation (prompt estimate + max_tokens, priced) is settled to the real cost: 130 µ$.
    let spend: { used: number; reserved: number } | undefined;
    for (let i = 0; i < 50 && spend?.used !== 0.00013; i++) {
      const page = (await (await org.api("/limits/spend")).json()) as { data: { scope_id: string | null; usd_per_day: { used: number; reserved: number } }[] };
      spend = page.data.find((s) => s.scope_id === key.id)?.usd_per_day;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(spend).toMatchObject({ used: 0.00013, reserved: 0 });
  });
});
