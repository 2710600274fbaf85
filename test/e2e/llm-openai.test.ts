import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callEventOf, gatewayOrg, meshFetch, PROVIDER_KEYS } from "../fixtures/providers/org.ts";
import { ANSWER, USAGE, startProviderFixture } from "../fixtures/providers/server.ts";
import { startMesh, type Mesh } from "./mesh.ts";

// The model gateway through the real `openai` SDK: routing, streaming, usage, cost, errors, events.
let mesh: Mesh;
let fixture: Awaited<ReturnType<typeof startProviderFixture>>;
let org: Awaited<ReturnType<typeof gatewayOrg>>;
let client: OpenAI;
const ids: Record<string, string> = {};

beforeAll(async () => {
  [mesh, fixture] = await Promise.all([startMesh(), startProviderFixture()]);
  org = await gatewayOrg(mesh, "gw-openai", fixture.url);
  const primary = await org.provider("openai", "openai", PROVIDER_KEYS.openai, { timeout_ms: 500 });
  const backup = await org.provider("backup", "openai_compatible", "sk-fixture-backup-0123456789");
  const consumer = await org.provider("chatgpt", "openai", PROVIDER_KEYS.openai, { consumer: true });
  const keyless = await org.provider("keyless", "openai_compatible");
  const azure = await org.provider("azure", "azure_openai", "azure-fixture-key-0123456789");
  const down = await org.provider("down", "openai_compatible", "sk-fixture-down-0123456789", { base_url: "http://127.0.0.1:1" });
  await org.model("down", [{ provider_id: down.id, model: "llama" }]);
  await org.model("prod-gpt4o", [{ provider_id: azure.id, model: "gpt-4o-eastus" }]);
  Object.assign(ids, { primary: primary.id, backup: backup.id });
  await org.model("gpt-4o-mini", [{ provider_id: primary.id, model: "gpt-4o-mini-2024-07-18" }], { aliases: ["fast"] });
  await org.model("text-embedding-3-small", [{ provider_id: primary.id, model: "text-embedding-3-small" }]);
  await org.model("flaky", [{ provider_id: primary.id, model: "gpt-4o-500" }], { fallbacks: [{ provider_id: backup.id, model: "gpt-4o" }] });
  for (const mode of ["429", "hang", "garbage", "cut", "stall", "nousage"]) await org.model(mode, [{ provider_id: primary.id, model: `gpt-4o-${mode}` }]);
  await org.model("consumer-gpt", [{ provider_id: consumer.id, model: "gpt-4o" }]);
  await org.model("no-key", [{ provider_id: keyless.id, model: "llama" }]);
  client = new OpenAI({ apiKey: org.apiKey, baseURL: `https://${org.host}/llm/openai/v1`, fetch: meshFetch(mesh), maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all([mesh?.close(), fixture?.close()]);
});

const lastUpstream = () => fixture.requests.at(-1)!;

describe("chat completions", () => {
  it("answers through the alias, with the org's key upstream and the body passed through byte for byte", async () => {
    const before = fixture.requests.length;
    const { data, response } = await client.chat.completions
      .create({ model: "fast", messages: [{ role: "user", content: "Say hello" }], max_tokens: 50 })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe(ANSWER.join(""));
    expect(data.usage).toMatchObject({ prompt_tokens: USAGE.input, completion_tokens: USAGE.output });
    expect(fixture.requests.length).toBe(before + 1);
    const upstream = lastUpstream();
    expect(upstream.path).toBe("/v1/chat/completions");
    expect(upstream.headers.authorization).toBe(`Bearer ${PROVIDER_KEYS.openai}`);
    expect(JSON.stringify(upstream.headers)).not.toContain(org.apiKey);
    expect(JSON.parse(upstream.body)).toEqual({ model: "gpt-4o-mini-2024-07-18", messages: [{ role: "user", content: "Say hello" }], max_tokens: 50 });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9A-Z]{26}$/);
  });

  it("sends the caller's exact bytes when Airlock has nothing to change", async () => {
    const raw = '{"model":"gpt-4o-mini",  "messages":[{"role":"user","content":"hi"}]}';
    const res = await mesh.request(org.host, "/llm/openai/v1/chat/completions", { method: "POST", token: org.apiKey, headers: { "content-type": "application/json" }, body: raw });
    expect(res.status).toBe(200);
    // The alias resolved to another model name: the body is rewritten, nothing else in it changes.
    expect(JSON.parse(lastUpstream().body)).toEqual({ ...JSON.parse(raw), model: "gpt-4o-mini-2024-07-18" });
    const direct = '{"model":"text-embedding-3-small",  "input":"hi"}';
    expect((await mesh.request(org.host, "/llm/openai/v1/embeddings", { method: "POST", token: org.apiKey, headers: { "content-type": "application/json" }, body: direct })).status).toBe(200);
    expect(lastUpstream().body).toBe(direct);
  });

  it("streams chunk by chunk, asks for usage upstream and hides the usage chunk from a client that did not", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(ANSWER.join(""));
    expect(chunks.every((c) => c.choices.length > 0 && !c.usage)).toBe(true);
    expect(JSON.parse(lastUpstream().body).stream_options).toEqual({ include_usage: true });
  });

  it("passes the usage chunk to a client that asked for it", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: USAGE.input, completion_tokens: USAGE.output });
  });

  it("returns tool calls, streamed and whole", async () => {
    const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const whole = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "weather?" }], tools });
    expect(whole.choices[0]!.message.tool_calls?.[0]).toMatchObject({ type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } });
    const runner = client.chat.completions.stream({ model: "gpt-4o-mini", messages: [{ role: "user", content: "weather?" }], tools });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls?.[0]?.function).toMatchObject({ name: "get_weather", arguments: '{"city":"Paris"}' });
  });

  it("records one event with gen_ai attributes, cost and latency", async () => {
    const { response } = await client.chat.completions.create({ model: "fast", messages: [{ role: "user", content: "Say hello" }] }).withResponse();
    const event = await callEventOf(org, response.headers.get("x-request-id")!);
    expect(event).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "fast",
      "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
      "gen_ai.usage.input_tokens": USAGE.input,
      "gen_ai.usage.output_tokens": USAGE.output,
      "gen_ai.usage.cache_read.input_tokens": USAGE.cached,
      "airlock.usage.estimated": false,
      // gpt-4o-mini: $0.15 / $0.60 / $0.075 per Mtok → 8×0.15 + 3×0.075 + 7×0.6 = 5.625 µ$
      "airlock.cost_micros": 6,
      "airlock.llm.provider": "openai",
      "airlock.llm.fallback_path": "openai/gpt-4o-mini-2024-07-18:200",
      "airlock.policy.determining": "allow-catalog",
      airlock: { decision: "allow", client: expect.any(Object) },
    });
    expect(event["airlock.llm.ttfb_ms"]).toBeGreaterThan(0);
    expect(event["airlock.llm.latency_ms"]).toBeGreaterThanOrEqual(event["airlock.llm.ttfb_ms"]);
  });

  it("records a stream's event after it ended, with the usage it carried", async () => {
    const { data: stream, response } = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true }).withResponse();
    for await (const _ of stream) void _;
    const event = await callEventOf(org, response.headers.get("x-request-id")!);
    expect(event).toMatchObject({ "gen_ai.usage.output_tokens": USAGE.output, "airlock.llm.streamed": true, "airlock.usage.estimated": false });
  });

  it("estimates usage the provider did not report, and says so", async () => {
    const { response } = await client.chat.completions.create({ model: "nousage", messages: [{ role: "user", content: "x".repeat(400) }] }).withResponse();
    const event = await callEventOf(org, response.headers.get("x-request-id")!);
    expect(event).toMatchObject({ "airlock.usage.estimated": true, "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": Math.ceil(ANSWER.join("").length / 4) });
  });
});

describe("other OpenAI operations", () => {
  it("streams the Responses API and reads usage from response.completed", async () => {
    const stream = await client.responses.create({ model: "gpt-4o-mini", input: "hi", stream: true });
    let text = "";
    let usage;
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") usage = event.response.usage;
    }
    expect(text).toBe(ANSWER.join(""));
    expect(usage).toMatchObject({ input_tokens: USAGE.input, output_tokens: USAGE.output });
  });

  it("embeds, and lists the org's catalog as models", async () => {
    const embedding = await client.embeddings.create({ model: "text-embedding-3-small", input: "hi" });
    expect(embedding.data[0]!.embedding.map((x) => Math.round(x * 10) / 10)).toEqual([0.1, 0.2, 0.3]);
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(expect.arrayContaining(["gpt-4o-mini", "fast", "flaky"]));
  });
});

describe("Azure OpenAI", () => {
  it("routes a deployment path through the catalog with the org's key in api-key", async () => {
    const azure = new AzureOpenAI({ apiKey: org.apiKey, endpoint: `https://${org.host}/llm/azure`, apiVersion: "2024-10-21", deployment: "prod-gpt4o", fetch: meshFetch(mesh), maxRetries: 0 });
    const data = await azure.chat.completions.create({ model: "prod-gpt4o", messages: [{ role: "user", content: "hi" }] });
    expect(data.choices[0]!.message.content).toBe(ANSWER.join(""));
    const upstream = lastUpstream();
    expect(upstream.path).toBe("/openai/deployments/gpt-4o-eastus/chat/completions?api-version=2024-10-21");
    expect(upstream.headers["api-key"]).toBe("azure-fixture-key-0123456789");
    expect(upstream.headers.authorization).toBeUndefined();
  });
});

describe("routing and failures", () => {
  it("retries, then falls back to the next provider before the first byte", async () => {
    const { data, response } = await client.chat.completions.create({ model: "flaky", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe(ANSWER.join(""));
    expect(lastUpstream().headers.authorization).toBe("Bearer sk-fixture-backup-0123456789");
    const event = await callEventOf(org, response.headers.get("x-request-id")!);
    expect(event["airlock.llm.fallback_path"]).toBe("openai/gpt-4o-500:500 > openai/gpt-4o-500:500 > backup/gpt-4o:200");
    expect(event["airlock.llm.provider"]).toBe("backup");
  });

  it("retries a transient 429 on the same deployment", async () => {
    fixture.failNext(1, 429);
    const data = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    expect(data.choices[0]!.message.content).toBe(ANSWER.join(""));
  });

  it("hands back the provider's own 429 when every try is rate limited", async () => {
    const error = await client.chat.completions.create({ model: "429", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after")).toBe("1");
  });

  it("ends a stream the provider cuts with an error event, not a clean end", async () => {
    const stream = await client.chat.completions.create({ model: "cut", messages: [{ role: "user", content: "hi" }], stream: true });
    const error = await (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toContain("interrupted");
  });

  it("cuts a stream the provider leaves silent, after the provider's timeout", async () => {
    const stream = await client.chat.completions.create({ model: "stall", messages: [{ role: "user", content: "hi" }], stream: true });
    const error = await (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toContain("sent nothing for 500 ms");
  });

  it.each([
    ["hang", 504, "provider_timeout"],
    // workerd's fetch throws on a refused connection (provider_unreachable); the test harness's
    // outbound proxy answers 500 "fetch failed" instead, which is not the provider's format.
    ["down", 502, expect.stringMatching(/^provider_(unreachable|error)$/)],
    ["garbage", 502, "provider_bad_response"],
    ["no-key", 502, "provider_credential_missing"],
  ])("answers a %s provider with a clear error and the request id", async (model, status, code) => {
    const error = (await client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(status);
    expect(error.code).toEqual(code);
    expect(error.message).toMatch(/request id [0-9A-Z]{26}/);
  });

  it.each([
    ["an unknown model", { model: "gpt-9", messages: [] }, 404, "model_not_found"],
    ["a model on a consumer provider (policy)", { model: "consumer-gpt", messages: [{ role: "user", content: "hi" }] }, 403, "policy_denied"],
    ["a negative max_tokens", { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: -5 }, 400, "invalid_request"],
    ["a max_completion_tokens that is not a number", { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_completion_tokens: "lots" }, 400, "invalid_request"],
  ])("refuses %s in OpenAI's error format", async (_what, body, status, code) => {
    const res = await mesh.request(org.host, "/llm/openai/v1/chat/completions", { method: "POST", token: org.apiKey, json: body });
    expect(res.status).toBe(status);
    const payload = (await res.json()) as { error: { code: string; message: string; type: string } };
    expect(payload.error.code).toBe(code);
    expect(payload.error.message).toContain(res.headers.get("x-request-id")!);
  });

  it("records a policy denial with the model, the provider and the determining policy", async () => {
    const res = await mesh.request(org.host, "/llm/openai/v1/chat/completions", { method: "POST", token: org.apiKey, json: { model: "consumer-gpt", messages: [] } });
    expect(res.status).toBe(403);
    const event = await callEventOf(org, res.headers.get("x-request-id")!);
    expect(event).toMatchObject({
      "gen_ai.request.model": "consumer-gpt",
      "airlock.llm.provider": "chatgpt",
      "airlock.policy.determining": "forbid-consumer-providers",
      airlock: { decision: "deny", reason: "policy_denied" },
    });
  });

  it("refuses a malformed body, a missing key and an unknown provider without calling upstream", async () => {
    const before = fixture.requests.length;
    const malformed = await mesh.request(org.host, "/llm/openai/v1/chat/completions", { method: "POST", token: org.apiKey, headers: { "content-type": "application/json" }, body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error.code).toBe("malformed_body");
    const anonymous = await mesh.request(org.host, "/llm/openai/v1/chat/completions", { method: "POST", json: { model: "fast", messages: [] } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("resource_metadata=");
    const unknown = await mesh.request(org.host, "/llm/mistral/v1/chat/completions", { method: "POST", token: org.apiKey, json: { model: "fast", messages: [] } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe("provider_not_found");
    expect(fixture.requests.length).toBe(before);
  });
});

describe("admin API", () => {
  it("never returns a provider credential, only its hint, and rotates it", async () => {
    const got = (await (await org.api(`/providers/${ids.primary}`)).json()) as any;
    expect(got.credential).toEqual({ set: true, hint: `…${PROVIDER_KEYS.openai.slice(-4)}` });
    expect(JSON.stringify(await (await org.api("/providers")).json())).not.toContain(PROVIDER_KEYS.openai);
    const rotated = await org.api(`/providers/${ids.backup}/credential`, { method: "PUT", json: { credential: "sk-fixture-rotated-9876543210" } });
    expect(rotated.status).toBe(200);
    await client.chat.completions.create({ model: "flaky", messages: [{ role: "user", content: "hi" }] });
    expect(lastUpstream().headers.authorization).toBe("Bearer sk-fixture-rotated-9876543210");
  });

  it("serves a model added or removed since the isolate cached the catalog on the very next call", async () => {
    const ask = () => mesh.request(org.host, "/llm/openai/v1/chat/completions", { method: "POST", token: org.apiKey, json: { model: "brand-new", messages: [{ role: "user", content: "hi" }] } });
    expect((await ask()).status).toBe(404);
    const added = (await (await org.api("/models", { method: "POST", json: { name: "brand-new", deployments: [{ provider_id: ids.primary, model: "gpt-4o" }] } })).json()) as { id: string };
    expect((await ask()).status).toBe(200);
    expect((await org.api(`/models/${added.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await ask()).status).toBe(404);
  });

  it("validates providers and routes", async () => {
    const bad = await org.api("/providers", { method: "POST", json: { name: "bad", kind: "openai", base_url: "ftp://example.com" } });
    expect(bad.status).toBe(422);
    const mixed = await org.api("/models", { method: "POST", json: { name: "mixed", deployments: [{ provider_id: "nope", model: "x" }] } });
    expect(mixed.status).toBe(422);
    const clash = await org.api("/models", { method: "POST", json: { name: "fast", deployments: [{ provider_id: ids.primary, model: "x" }] } });
    expect(clash.status).toBe(409);
    const inUse = await org.api(`/providers/${ids.primary}`, { method: "DELETE" });
    expect(inUse.status).toBe(409);
  });
});
