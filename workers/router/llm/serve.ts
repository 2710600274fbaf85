import type { Context } from "hono";
import type { InspectResult } from "../../../shared/guardrail.ts";
import { inspect, responseScanner, type GuardrailContext } from "../../../shared/guardrail-engine/client.ts";
import type { AdmitResult } from "../../../shared/rpc.ts";
import { admit, settle as settleReservation } from "../admission/admit.ts";
import type { CallOutcome, RouterEnv } from "../context.ts";
import type { Operation, ProviderConfig } from "../providers/index.ts";
import { operationOf } from "../providers/index.ts";
import { priceOf } from "../providers/prices.ts";
import { clientCredential, errorShapeForName, forwardedHeaders, returnedHeaders } from "./client.ts";
import { llmAttributes, type CallFacts, type CallRecord } from "./record.ts";
import { cachedRegistry, registryAt, type ModelEntry, type ProviderEntry, type Registry } from "./registry.ts";
import { tapStream } from "./stream.ts";
import { callTargets, targetsOf, type Target } from "./upstream.ts";
import { bill, DEFAULT_MAX_OUTPUT, promptChars, textChars, tokensOfChars } from "./usage.ts";

/** How the router answers authentication refusals on a protected resource (WWW-Authenticate challenge). */
export interface GatewayHooks {
  challenge(error?: { code: string; description: string }): string;
}

const TRIES_PER_TARGET = 2;
const BACKOFF_MS = 50;
const decoder = new TextDecoder();
/**
 * A streamed answer's headers wait this long for its first event, so that both leave in one
 * write and reach the client together; a provider slower than that (a model thinking first)
 * gets its headers through at once.
 */
const FIRST_EVENT_WAIT_MS = 25;

/** Guardrails run in this isolate under the org's policy from airlock-guardrail (shared/guardrail-engine/client.ts). */
const guardrailOf = (c: Context<RouterEnv>): GuardrailContext => ({ guardrail: c.env.GUARDRAIL, waitUntil: (p) => c.executionCtx.waitUntil(p), worker: "router" });

/** A call as the gateway resolved it from the path, body and registry. */
interface Call {
  provider: ProviderEntry;
  operation: Operation;
  subPath: string;
  body: Record<string, any> | null;
  bytes: Uint8Array;
  requested: string;
  entry: ModelEntry;
  targets: Target[];
}

/**
 * `/llm/<provider>/…`: the model gateway. Resolves the call from the org's registry (isolate
 * cache), admits it here (identity, policy, reservation: admission/admit.ts) while the prompt
 * passes the org's guardrails, calls the provider with the org's credential (routing,
 * retries, fallbacks before the first byte), passes the answer back through the guardrail,
 * and settles the reservation and records the call once it has ended.
 */
export async function serveModelGateway(c: Context<RouterEnv>, slug: string, resourceId: string, hooks: GatewayHooks): Promise<Response> {
  const env = c.env;
  const requestId = c.get("requestId");
  const url = c.get("url");
  const [, , name = "", ...rest] = url.pathname.split("/");
  const subPath = `/${rest.join("/")}`;
  const credential = clientCredential(c.req.raw, url);
  const bytes = c.get("body") ?? new Uint8Array();
  const started = performance.now();

  let registry = await cachedRegistry(env, slug);
  let errors = registry?.providersByName.get(name)?.config.errors ?? errorShapeForName(name);
  const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
    c.set("reason", code);
    return Response.json(errors.body(status, code, message, requestId), { status, headers });
  };
  if (!registry) return fail(404, "unknown_org", "No org answers at this host");

  /** Refusals found before admission still authenticate first: a stranger learns nothing about the org's catalog. */
  const authenticate = async () => {
    const result = await env.AUTH.authenticate({ host: { kind: "org", slug }, credential: credential || null, userAgent: c.req.header("user-agent") ?? null, resource: resourceId });
    c.set("org", result.org);
    if (result.ok) c.set("principal", result.principal);
    return result;
  };
  const authRefusal = (result: Extract<AdmitResult, { ok: false }>) => {
    if (result.code === "unknown_org") return fail(404, "unknown_org", "No org answers at this host");
    if (result.code === "unauthenticated") {
      return fail(401, "missing_credential", "Send your Airlock API key the way your SDK sends its API key (Authorization: Bearer, x-api-key or x-goog-api-key)", { "www-authenticate": hooks.challenge() });
    }
    const refused = fail(401, "invalid_token", result.detail, { "www-authenticate": hooks.challenge({ code: "invalid_token", description: result.detail }) });
    c.set("reason", result.code);
    return refused;
  };
  if (credential === "") return fail(400, "invalid_request", "The Authorization header must be `Bearer <token>`");

  for (let round = 0; ; round++) {
    const resolved = resolve(registry, slug, name, c.req.method, subPath, bytes, url);
    if ("refusal" in resolved || resolved.operation.name === "models") {
      // The registry changed under a call already admitted (round 1): free what that admission reserved.
      if (round > 0) c.executionCtx.waitUntil(settleReservation(env, { org_id: registry.orgId, request_id: requestId, tokens: 0, cost_micros: 0 }));
      const auth = await authenticate();
      if (!auth.ok) return authRefusal(auth);
      if (auth.configVersion !== registry.version && round === 0) {
        // A provider or model added since this isolate loaded the registry: look again at the current one.
        registry = await registryAt(env, slug, registry.orgId, auth.configVersion);
        continue;
      }
      if (!("refusal" in resolved)) return listModels(c, registry);
      const { status, code, message } = resolved.refusal;
      return fail(status, code, message);
    }
    const call = resolved;
    errors = call.provider.config.errors;
    c.set("operation", `llm.${call.operation.name}`);

    const billable = call.operation.name !== "count_tokens";
    const primary = call.targets[0]!;
    const price = priceOf(primary.model, call.entry.price);
    const promptTokens = tokensOfChars(promptChars(call.body, call.operation.promptFields));
    const ceiling = call.operation.maxOutput?.(call.body ?? {}) ?? DEFAULT_MAX_OUTPUT;
    // What is reserved must be a count; anything else is refused once the caller is known (below).
    const countable = Number.isSafeInteger(ceiling) && ceiling >= 1;
    const reserveTokens = promptTokens + (countable ? ceiling : 0);
    const reserve = billable && countable ? { tokens: reserveTokens, cost_micros: Math.round(promptTokens * (price?.input ?? 0) + (reserveTokens - promptTokens) * (price?.output ?? 0)) } : undefined;

    const promptFields = call.operation.promptFields.filter((f) => call.body?.[f] !== undefined);
    // Admission and prompt inspection run together (inspection at the version the registry was loaded at);
    // a caller that sent no credential at all is refused by admission, so its prompt is not inspected.
    const [admitted, inspected] = await Promise.all([
      admit(env, {
        request_id: requestId,
        host: { kind: "org", slug },
        credential: credential || null,
        userAgent: c.req.header("user-agent") ?? null,
        resource: resourceId,
        action: "invoke_model",
        resource_entity: { type: "Model", id: call.entry.name, provider: { id: primary.provider.name, kind: primary.provider.kind, consumer: primary.provider.consumer } },
        facts: { sourceIp: c.req.header("cf-connecting-ip") ?? null },
        ...(reserve ? { reserve } : {}),
      }, (promise) => c.executionCtx.waitUntil(promise)).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
      promptFields.length && credential
        ? inspect(guardrailOf(c), { org_id: registry.orgId, config_version: registry.version, request_id: requestId }, "prompt", { messages: promptFields.map((f) => call.body![f]) })
        : Promise.resolve<InspectResult>({ action: "allow", findings: [] }),
    ]);
    if (admitted instanceof Error) {
      // The OrgState or airlock-auth could not be reached: whatever may have been held is released, and the caller may retry.
      console.error(JSON.stringify({ level: "error", worker: "router", request_id: requestId, error: "admission failed", detail: admitted.message }));
      c.executionCtx.waitUntil(settleReservation(env, { org_id: registry.orgId, request_id: requestId, tokens: 0, cost_micros: 0 }));
      return fail(503, "admission_unavailable", "Airlock could not admit this call just now; retry shortly", { "retry-after": "1" });
    }
    c.set("org", admitted.org);
    if (!admitted.ok) return authRefusal(admitted);
    const { principal, configVersion, decision } = admitted;
    c.set("principal", principal);
    c.set("configVersion", configVersion);
    // Orgs without a limit that applies hold nothing: then there is nothing to settle or release.
    const settle = (tokens: number, costMicros: number) =>
      admitted.reserved ? settleReservation(env, { org_id: registry!.orgId, request_id: requestId, tokens, cost_micros: costMicros }) : Promise.resolve();
    const release = () => c.executionCtx.waitUntil(settle(0, 0));

    if (configVersion !== registry.version && round === 0) {
      // The org changed since this isolate loaded its registry: reload, resolve and admit again (the reservation is idempotent per request id).
      registry = await registryAt(env, slug, registry.orgId, configVersion);
      continue;
    }
    if (principal.kind !== "oauth" && principal.kind !== "api_key") {
      release();
      return fail(403, "forbidden", "Admin tokens are for the admin API; agents use OAuth or an API key", { "www-authenticate": hooks.challenge({ code: "insufficient_scope", description: "Admin tokens are for the admin API" }) });
    }
    const facts: CallFacts = {
      provider: primary.provider, operation: call.operation, requested: call.requested,
      policyVersion: decision.policy_version, determining: decision.determining, mode: decision.mode, ...(admitted.policy ? { policy: admitted.policy } : {}),
    };
    /** A call refused before any provider was asked: its event still names the model, provider and decision. */
    const refuse = (status: number, code: string, message: string, headers?: Record<string, string>) => {
      c.set("outcome", Promise.resolve({ attributes: llmAttributes({ ...facts, target: primary, attempts: [], started, status }), reason: code, endedAt: performance.now(), ...(facts.policy ? { policy: facts.policy } : {}) }));
      return fail(status, code, message, headers);
    };
    if (!countable) {
      release();
      return refuse(400, "invalid_request", `The output token limit must be a positive integer, not ${JSON.stringify(ceiling)}`);
    }
    if (decision.decision === "deny" && decision.mode === "enforce") {
      release();
      const ids = decision.determining.length ? decision.determining.join(", ") : "no policy permits it (default deny)";
      return refuse(403, "policy_denied", `Model ${call.entry.name} via provider ${primary.provider.name} is not allowed by policy: ${ids}`);
    }
    if (admitted.limited) {
      const limit = admitted.limited;
      return refuse(429, "rate_limited", `${limit.detail} (${limit.scope} ${limit.limit})`, { "retry-after": String(limit.retry_after_s) });
    }
    if (inspected.action === "block") {
      release();
      const detectors = [...new Set(inspected.findings.filter((f) => f.action === "block").map((f) => f.detector))].join(", ");
      return refuse(400, "prompt_blocked", inspected.error ? `The prompt could not be inspected (${inspected.error.code}) and the org's guardrails fail closed` : `The prompt was blocked by the org's guardrails (${detectors})`);
    }
    let body = call.body;
    if (inspected.redacted?.messages && body) {
      body = { ...body };
      promptFields.forEach((f, i) => (body![f] = inspected.redacted!.messages![i]));
    }
    return forward(c, { ...call, body }, body === call.body, facts, started, { settle, release }, price);
  }
}

type Resolved = Call | { refusal: { status: number; code: string; message: string } };

function resolve(registry: Registry, slug: string, name: string, method: string, subPath: string, bytes: Uint8Array, url: URL): Resolved {
  const refusal = (status: number, code: string, message: string) => ({ refusal: { status, code, message } });
  const provider = registry.providersByName.get(name);
  if (!provider) return refusal(404, "provider_not_found", `No model provider named '${name}' is configured in org ${slug}`);
  const operation = operationOf(provider.config, method, subPath);
  if (!operation) return refusal(404, "unsupported_operation", `Airlock does not serve ${method} ${subPath} for ${provider.kind} providers`);
  let body: Record<string, any> | null = null;
  if (method === "POST") {
    try {
      body = JSON.parse(decoder.decode(bytes));
    } catch {
      return refusal(400, "malformed_body", "The request body is not valid JSON");
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) return refusal(400, "malformed_body", "The request body must be a JSON object");
  }
  if (operation.model === "none") return { provider, operation, subPath, body, bytes, requested: "", entry: { name: "", deployments: [], fallbacks: [], price: null }, targets: [] };
  const requested = operation.model === "body" ? body?.model : provider.config.pathModel?.read(subPath);
  if (typeof requested !== "string" || !requested) return refusal(400, "model_required", "Name the model (`model` in the body)");
  const entry = registry.models.get(requested);
  if (!entry) return refusal(404, "model_not_found", `The model '${requested}' is not in this org's catalog`);
  const targets = targetsOf(entry, registry, provider.config.dialect);
  if (!targets.length) return refusal(400, "model_not_served", `No deployment of '${requested}' speaks the ${provider.config.dialect} API`);
  return { provider, operation, subPath, body, bytes, requested, entry, targets };
}

/** `GET /v1/models` from the org's catalog (names and aliases), in OpenAI's list format. */
function listModels(c: Context<RouterEnv>, registry: Registry): Response {
  const data = [...registry.models.entries()].map(([id, entry]) => ({ id, object: "model", created: 0, owned_by: registry.providersById.get(entry.deployments[0]!.provider_id)?.name ?? "airlock" }));
  return Response.json({ object: "list", data });
}

/** The request a target gets: the org's credential, the routed model, usage asked for when streaming; else the caller's bytes as sent. */
function upstreamRequest(call: Call, target: Target, credential: string, url: URL, unchanged: boolean, forwarded: Record<string, string>): { url: string; init: RequestInit } {
  const config: ProviderConfig = target.provider.config;
  const path = call.operation.model === "path" && config.pathModel ? config.pathModel.write(call.subPath, target.model) : call.subPath;
  const query = url.search ? queryWithoutKey(url) : "";
  const headers = { ...forwarded, ...config.credentialHeaders(credential) };
  return { url: `${target.provider.baseUrl}${path}${query}`, init: { method: call.operation.method, headers, body: bodyFor(call, target, unchanged) } };
}

/** The caller's query string without `key` (Gemini SDKs may send the Airlock key there). */
function queryWithoutKey(url: URL): string {
  const search = new URLSearchParams(url.search);
  search.delete("key");
  return search.size ? `?${search}` : "";
}

function bodyFor(call: Call, target: Target, unchanged: boolean): BodyInit | null {
  if (call.operation.method !== "POST" || !call.body) return null;
  const needsModel = call.operation.model === "body" && call.body.model !== target.model;
  const wantsUsage = call.operation.streamFormat === "openai_chat" && call.body.stream === true && call.body.stream_options?.include_usage !== true;
  if (unchanged && !needsModel && !wantsUsage) return call.bytes;
  const body = { ...call.body };
  if (needsModel) body.model = target.model;
  if (wantsUsage) body.stream_options = { ...body.stream_options, include_usage: true };
  return JSON.stringify(body);
}

async function forward(
  c: Context<RouterEnv>,
  call: Call,
  unchanged: boolean,
  facts: CallFacts,
  started: number,
  { settle, release }: { settle: (tokens: number, costMicros: number) => Promise<void>; release: () => void },
  reservedPrice: ReturnType<typeof priceOf>,
): Promise<Response> {
  const requestId = c.get("requestId");
  const url = c.get("url");
  const errors = call.provider.config.errors;
  const forwarded = forwardedHeaders(c.req.raw);
  const result = await callTargets(call.targets, {
    triesPerTarget: TRIES_PER_TARGET,
    backoffMs: BACKOFF_MS,
    build: (target, credential) => upstreamRequest(call, target, credential, url, unchanged, forwarded),
  });
  const target = result.target ?? call.targets[0]!;
  const price = result.target ? priceOf(target.model, call.entry.price) : reservedPrice;
  const base = { ...facts, target, attempts: result.attempts, started };
  const outcome = (extra: Omit<CallRecord, keyof CallFacts | "target" | "attempts" | "started"> & { reason?: string }): CallOutcome => {
    const { reason, ...rest } = extra;
    return { attributes: llmAttributes({ ...base, ...rest }), endedAt: performance.now(), ...(reason ? { reason } : {}), ...(facts.policy ? { policy: facts.policy } : {}) };
  };
  const failWith = (status: number, code: string, message: string) => {
    release();
    c.set("outcome", Promise.resolve(outcome({ status, reason: code })));
    c.set("reason", code);
    return Response.json(errors.body(status, code, message, requestId), { status });
  };

  if (!result.response) return failWith(result.failure!.status, result.failure!.code, result.failure!.message);
  const response = result.response;
  const headersAt = performance.now();
  const headers = returnedHeaders(response);

  if (!response.ok) {
    // The provider's own error, in its own format, to the caller; nothing is billed. An error
    // body that is not JSON (a proxy's HTML page, a dev runtime's text) is not the provider's
    // format: the caller gets Airlock's error in its dialect instead.
    const text = await response.text().catch(() => "");
    if (!isJson(text)) return failWith(502, "provider_error", `Provider ${target.provider.name} answered ${response.status} without a valid error body`);
    release();
    c.set("outcome", Promise.resolve(outcome({ status: response.status, reason: `provider_${response.status}`, ttfbAt: headersAt })));
    return new Response(text, { status: response.status, headers });
  }

  const fallbackUsage = (outputChars: number) => ({ input: tokensOfChars(promptChars(call.body, call.operation.promptFields)), output: tokensOfChars(outputChars), cached: 0 });
  const streaming = call.operation.streams?.(call.body, url) === true && (response.headers.get("content-type") ?? "").includes("text/event-stream") && response.body;

  if (streaming) {
    // One stage: usage, dropped events and the org's response guardrail in the same pass over the body.
    const scan = await responseScanner(guardrailOf(c), { org_id: c.get("org")!.id, config_version: c.get("configVersion"), request_id: requestId }, call.operation.streamFormat!);
    const tapped = tapStream(response.body!, call.operation, {
      clientAskedUsage: call.body?.stream_options?.include_usage === true,
      errorEvent: (message) => errors.streamError(`${message} (request id ${requestId})`, "upstream_stream_cut"),
      idleMs: target.provider.timeoutMs,
      scan,
    });
    c.set("outcome", tapped.done.then(async (end) => {
      const billed = bill(end.state.usage, () => fallbackUsage(end.outputChars), price);
      await settle(billed.usage.input + billed.usage.output, billed.costMicros).catch(() => undefined);
      return outcome({ status: response.status, billed, responseModel: end.state.model, streamed: true, ttfbAt: end.firstByteAt ?? headersAt, ...(end.cut ? { reason: "upstream_stream_cut" } : end.cancelled ? { reason: "stream_cancelled" } : {}) });
    }));
    headers["cache-control"] = "no-cache";
    await within(tapped.firstOut, FIRST_EVENT_WAIT_MS);
    return new Response(tapped.stream, { status: response.status, headers });
  }

  const text = await response.text().catch(() => null);
  let json: any;
  try {
    json = text === null ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json === undefined) return failWith(502, "provider_bad_response", `Provider ${target.provider.name} returned a response that is not valid JSON`);

  const billable = call.operation.name !== "count_tokens";
  const billed = billable ? bill(call.operation.usage?.(json), () => fallbackUsage(textChars(json)), price) : undefined;
  const inspected = billable
    ? await inspect(guardrailOf(c), { org_id: c.get("org")!.id, config_version: c.get("configVersion"), request_id: requestId }, "response", { messages: [json] })
    : ({ action: "allow", findings: [] } satisfies InspectResult);
  if (inspected.action === "block") {
    // The provider did the work: the usage is billed even though the answer is withheld.
    if (billed) c.executionCtx.waitUntil(settle(billed.usage.input + billed.usage.output, billed.costMicros));
    c.set("outcome", Promise.resolve(outcome({ status: 403, billed, responseModel: json?.model, ttfbAt: headersAt, reason: "response_blocked" })));
    c.set("reason", "response_blocked");
    const why = inspected.error ? `could not be inspected (${inspected.error.code}) and the org's guardrails fail closed` : "was withheld by the org's guardrails";
    return Response.json(errors.body(403, "response_blocked", `The answer ${why}`, requestId), { status: 403 });
  }
  if (billed) c.executionCtx.waitUntil(settle(billed.usage.input + billed.usage.output, billed.costMicros));
  else release();
  c.set("outcome", Promise.resolve(outcome({ status: response.status, billed, responseModel: typeof json?.model === "string" ? json.model : json?.modelVersion, ttfbAt: headersAt })));
  const out = inspected.redacted?.messages ? JSON.stringify(inspected.redacted.messages[0]) : text!;
  return new Response(out, { status: response.status, headers });
}

/** Waits for `promise`, but not longer than `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer!: ReturnType<typeof setTimeout>;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
