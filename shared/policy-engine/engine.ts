// The policy engine: Cedar over the Airlock schema. Independent of how Cedar was loaded
// (`createEngine` takes the module), so the auth Worker runs it over the `web` build in
// workerd (./index.ts) and the benchmark over the `web` build in workerd and the `nodejs`
// build in Node, the same code. The fast path (decision cache, pruned requests, per-action
// policy slices, the request check once per shape) must decide exactly as plain Cedar does:
// fast-path.test.ts compares the two on random requests.
import type * as CedarModule from "@cedar-policy/cedar-wasm/web";
import type { CedarValueJson, DetailedError, EntityJson, EntityUidJson } from "@cedar-policy/cedar-wasm/web";
import type { Principal } from "../principal.ts";
import type { PolicyAction as Action, PolicyDecision as Decision, RequestFacts, ResourceDescriptor } from "../policy.ts";
import { neededEntities, observe, pruneRequest, resourceKey, subjectKey, type Observed } from "./observed.ts";
import { airlockSchema, type CedarTypeText } from "./schema.ts";

export type Cedar = Pick<
  typeof CedarModule,
  "validate" | "checkParsePolicySet" | "policySetTextToParts" | "policyToJson" | "preparsePolicySet" | "preparseSchema" | "statefulIsAuthorized"
>;

export interface PolicyError {
  message: string;
  /** The policy's `@id` annotation (or Cedar's `policyN` when it has none). */
  policyId?: string;
  /** Offsets in the policy set text (Cedar's own source locations). */
  start?: number;
  end?: number;
  help?: string;
}

export type Validation = { ok: true; warnings: PolicyError[] } | { ok: false; errors: PolicyError[] };

/**
 * What a policy set's text yields once parsed policy by policy (Cedar's `policyToJson`,
 * about 1.5 ms a policy): stored with its version, so preparing it in a fresh isolate costs
 * only validation and Cedar's own parse.
 */
export interface CompiledPolicySet {
  /** The `@id` of every policy, in text order. */
  policyIds: string[];
  observed: { literals: string[]; attributes: string[]; wholeContext: boolean };
  /** Per `@id`, the actions its scope names (null: any action). */
  actions: Record<string, string[] | null>;
}

/** The actions a policy's scope names (null: any): Cedar's JSON `action` constraint. */
function actionScope(est: unknown): string[] | null {
  const scope = (est as { action?: { op: string; entity?: { id: string }; entities?: { id: string }[] } } | null)?.action;
  if (!scope || scope.op === "All") return null;
  if (scope.entity) return [scope.entity.id];
  if (scope.entities) return scope.entities.map((e) => e.id);
  return null;
}

/** A policy set parsed once into Cedar's per-isolate store; pass it to `decide`. */
export interface PreparedPolicySet {
  readonly org: string;
  readonly version: number;
  /** The `@id` of every policy, in text order. */
  readonly policyIds: readonly string[];
  /** The policy set as `@id` → text (what Cedar holds). */
  readonly policies: Readonly<Record<string, string>>;
  /** Where Cedar holds it: one slot per org, so an isolate keeps one prepared set per org. */
  readonly slot: string;
  /** What its policies can see of a request (observed.ts). */
  readonly observed: Observed;
  /** Per policy `@id`, the actions its scope names (null: any action). */
  readonly actions: Readonly<Record<string, readonly string[] | null>>;
  /** Decisions already made under it, by what the set can see of the request. */
  readonly decisions: Map<string, Decision>;
  /** The same decisions by principal object and request (see `requestKey`): no entities or context built to find them. */
  readonly byPrincipal: WeakMap<Principal, Map<string, Decision>>;
  /** `principal type|action|resource type` of requests Cedar's request check has passed under it. */
  readonly validShapes: Set<string>;
}

const shapeOf = (principal: { type: string }, action: string, resource: { type: string }) => `${principal.type}|${action}|${resource.type}`;

/** Decisions kept per prepared set; past this the cache starts again (a set sees few distinct requests). */
const MAX_CACHED_DECISIONS = 20_000;
/** Context attributes that can make Cedar refuse a request even when no policy reads them. */
const ALWAYS_KEYED: ReadonlySet<string> = new Set(["input", "source_ip"]);

export type { Action, Decision, ResourceDescriptor, RequestFacts };

export interface DecisionRequest extends RequestFacts {
  principal: Principal;
  action: Action;
  resource: ResourceDescriptor;
}

const NS = "Airlock";
const uid = (type: string, id: string): { type: string; id: string } => ({ type: `${NS}::${type}`, id });
const set = (values: Iterable<string>) => [...new Set(values)];

/** `entity uid → the entity`, the slice Cedar needs for one request. */
type Slice = Map<string, EntityJson>;

function put(slice: Slice, type: string, id: string, attrs: Record<string, CedarValueJson>, parents: EntityUidJson[] = []) {
  slice.set(`${type}\u0000${id}`, { uid: uid(type, id), attrs, parents });
}

/** The Cedar principal for an Airlock principal: its user when it has one, else its key. */
export function principalUid(principal: Principal): { type: string; id: string } {
  if (principal.user_id) return uid("User", principal.user_id);
  return uid("ApiKey", principal.credential_id ?? `${principal.kind}:anonymous`);
}

function principalEntities(slice: Slice, principal: Principal) {
  const teamParents = principal.teams.map((t) => uid("Team", t.name));
  for (const t of principal.teams) put(slice, "Team", t.name, { id: t.id });
  if (principal.user_id) {
    put(slice, "User", principal.user_id, { email: principal.email ?? "", teams: set(principal.teams.map((t) => t.name)), roles: set(principal.roles) }, teamParents);
  } else {
    const id = principalUid(principal).id;
    put(slice, "ApiKey", id, { kind: principal.kind, roles: set(principal.roles) }, teamParents);
  }
  const agent: Record<string, CedarValueJson> = { name: principal.client.name };
  if (principal.client.version) agent.version = principal.client.version;
  if (principal.oauth_client) agent.oauth_client = principal.oauth_client.name;
  put(slice, "Agent", principal.client.name, agent);
}

function resourceEntities(slice: Slice, resource: ResourceDescriptor): { type: string; id: string } {
  const server = (s: { id: string; tags?: string[] }) => {
    put(slice, "McpServer", s.id, { name: s.id, tags: set(s.tags ?? []) });
    return [uid("McpServer", s.id)];
  };
  switch (resource.type) {
    case "Model": {
      const p = resource.provider;
      put(slice, "Provider", p.id, { kind: p.kind, consumer: p.consumer });
      put(slice, "Model", resource.id, { name: resource.id, consumer: resource.consumer ?? p.consumer }, [uid("Provider", p.id)]);
      return uid("Model", resource.id);
    }
    case "McpServer":
      server(resource);
      return uid("McpServer", resource.id);
    case "Tool": {
      const id = `${resource.server.id}/${resource.id}`;
      put(slice, "Tool", id, { name: resource.id, tags: set(resource.tags ?? []) }, server(resource.server));
      return uid("Tool", id);
    }
    case "Resource":
      put(slice, "Resource", resource.uri, { uri: resource.uri }, server(resource.server));
      return uid("Resource", resource.uri);
    case "Prompt": {
      const id = `${resource.server.id}/${resource.id}`;
      put(slice, "Prompt", id, { name: resource.id }, server(resource.server));
      return uid("Prompt", id);
    }
    case "AgentTool":
      put(slice, "AgentTool", resource.id, { name: resource.id });
      return uid("AgentTool", resource.id);
    case "Org":
      put(slice, "Org", resource.slug, { slug: resource.slug });
      return uid("Org", resource.slug);
    default: {
      // Descriptors arrive over RPC: a type Airlock does not know goes to Cedar as it is,
      // and Cedar's request validation refuses it (deny, with Cedar's message).
      const unknown = resource as { type: unknown; id?: unknown };
      const id = String(unknown.id ?? "");
      put(slice, String(unknown.type), id, {});
      return uid(String(unknown.type), id);
    }
  }
}


const TOOL_CONTEXT_ACTIONS: ReadonlySet<Action> = new Set(["call_tool", "use_hook"]);

/** Cedar's JSON for a tool argument; Cedar has no null or float, so those stay as strings. */
function cedarValue(value: unknown): CedarValueJson {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(cedarValue);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cedarValue(v)]));
  return String(value);
}

export function contextFor(action: Action, facts: RequestFacts, principal: Principal, inputAttributes: ReadonlySet<string>): Record<string, CedarValueJson> {
  const now = facts.now ?? new Date();
  const context: Record<string, CedarValueJson> = {
    now: { __extn: { fn: "datetime", arg: now.toISOString() } },
    time: { hour: now.getUTCHours(), minute: now.getUTCMinutes(), weekday: now.getUTCDay() },
    agent: { __entity: uid("Agent", principal.client.name) },
    findings: set(facts.findings ?? []),
  };
  if (facts.sourceIp) context.source_ip = { __extn: { fn: "ip", arg: facts.sourceIp } };
  if (TOOL_CONTEXT_ACTIONS.has(action)) {
    const input: Record<string, CedarValueJson> = {};
    for (const [key, value] of Object.entries(facts.input ?? {})) if (inputAttributes.has(key)) input[key] = cedarValue(value);
    context.input = input;
  }
  return context;
}

const errorOf = (e: DetailedError, policyId?: string): PolicyError => {
  const location = e.sourceLocations?.[0];
  return {
    message: e.message,
    ...(policyId ? { policyId } : {}),
    ...(location ? { start: location.start, end: location.end } : {}),
    ...(e.help ? { help: e.help } : {}),
  };
};

export interface EngineOptions {
  /** Attributes of `context.input` (see schema.ts). */
  input?: Record<string, CedarTypeText>;
  /**
   * The fast path (default): reuse decisions for requests a set cannot tell apart, and hand
   * Cedar only the entities the set can observe. Off, every decision runs Cedar on the whole
   * request (tests and the benchmark compare the two).
   */
  cacheDecisions?: boolean;
}

let engines = 0;

export function createEngine(cedar: Cedar, options: EngineOptions = {}) {
  const schema = airlockSchema(options.input);
  const inputAttributes = new Set(Object.keys(options.input ?? {}));
  const cacheDecisions = options.cacheDecisions ?? true;
  const inputTypes = Object.entries(options.input ?? {});
  /** Whether tool arguments (as `contextFor` converted them) have their declared types, as Cedar's request check would find. */
  const inputConforms = (input: Record<string, CedarValueJson> | undefined) =>
    input === undefined ||
    inputTypes.every(([name, type]) => {
      const value = input[name];
      if (value === undefined) return true;
      const isLong = (v: unknown) => typeof v === "number";
      if (type === "String") return typeof value === "string";
      if (type === "Long") return isLong(value);
      if (type === "Bool") return typeof value === "boolean";
      if (type === "Set<String>") return Array.isArray(value) && value.every((v) => typeof v === "string");
      if (type === "Set<Long>") return Array.isArray(value) && value.every(isLong);
      return false;
    });
  // Cedar's preparsed schemas and policy sets live in one store per isolate: each engine
  // (one per `context.input` declaration) names its own, so engines never overwrite each other.
  const schemaName = `airlock-${++engines}`;
  const loaded = cedar.preparseSchema(schemaName, schema);
  if (loaded.type !== "success") throw new Error(`Airlock schema: ${loaded.errors.map((e) => e.message).join("; ")}`);

  /**
   * Splits a policy set into its policies and maps Cedar's positional ids (`policy0`, …,
   * assigned in text order) to each policy's `@id`. Cedar returns the parts sorted by
   * positional id as strings, so sorting the positional ids the same way pairs them up.
   */
  function split(text: string): { ok: true; byPositional: Map<string, string>; policies: Record<string, string>; order: string[]; json: unknown[]; actions: Record<string, string[] | null> } | { ok: false; errors: PolicyError[] } {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type !== "success") return { ok: false, errors: parts.errors.map((e) => errorOf(e)) };
    if (parts.policy_templates.length > 0) return { ok: false, errors: [{ message: "policy templates (`?principal`, `?resource`) are not supported; write static policies" }] };
    const positional = parts.policies.map((_, i) => `policy${i}`).sort();
    const byPositional = new Map<string, string>();
    const policies: Record<string, string> = {};
    const errors: PolicyError[] = [];
    const jsonForms: unknown[] = [];
    const actions: Record<string, string[] | null> = {};
    parts.policies.forEach((policyText, i) => {
      const pos = positional[i]!;
      const json = cedar.policyToJson(policyText);
      jsonForms.push(json.type === "success" ? json.json : null);
      const id = (json.type === "success" ? json.json.annotations?.id : undefined) ?? pos;
      actions[id] = json.type === "success" ? actionScope(json.json) : null;
      if (Object.hasOwn(policies, id)) errors.push({ message: `two policies have @id("${id}")`, policyId: id });
      byPositional.set(pos, id);
      policies[id] = policyText;
    });
    if (errors.length > 0) return { ok: false, errors };
    const order = [...byPositional.entries()].sort((a, b) => Number(a[0].slice(6)) - Number(b[0].slice(6))).map(([, id]) => id);
    return { ok: true, byPositional, policies, order, json: jsonForms, actions };
  }

  /** Parses and validates a policy set against the Airlock schema (strict mode); errors carry Cedar's positions in `text`. */
  function validatePolicySet(text: string): Validation {
    return validated(text).validation;
  }

  /** Validation and the split it rests on (splitting costs a `policyToJson` per policy: do it once). */
  function validated(text: string): { validation: Validation; parsed: ReturnType<typeof split> } {
    const parsed = split(text);
    return { validation: parsed.ok ? validateSplit(text, parsed) : parsed, parsed };
  }

  function validateSplit(text: string, parsed: { byPositional: Map<string, string> }): Validation {
    const answer = cedar.validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: "strict" } });
    if (answer.type !== "success") return { ok: false, errors: answer.errors.map((e) => errorOf(e)) };
    const named = (list: { policyId: string; error: DetailedError }[]) =>
      list.map((v) => errorOf(v.error, parsed.byPositional.get(v.policyId) ?? v.policyId));
    if (answer.validationErrors.length > 0) return { ok: false, errors: named(answer.validationErrors) };
    return { ok: true, warnings: [...named(answer.validationWarnings), ...answer.otherWarnings.map((e) => errorOf(e))] };
  }

  /** Prepared sets of this isolate, by org; Cedar holds each under its org's slot. */
  const prepared = new Map<string, PreparedPolicySet>();

  /** Validates a set and compiles it for storage (`compiled` only when it validates). */
  function compile(text: string): { validation: Validation; compiled?: CompiledPolicySet } {
    const { validation, parsed } = validated(text);
    if (!validation.ok || !parsed.ok) return { validation };
    const observed = observe(parsed.json);
    return {
      validation,
      compiled: { policyIds: parsed.order, observed: { literals: [...observed.literals], attributes: [...observed.attributes], wholeContext: observed.wholeContext }, actions: parsed.actions },
    };
  }

  /** The split and observations of a compiled set, from Cedar's parse alone (null when the text does not match it). */
  function fromCompiled(text: string, compiled: CompiledPolicySet) {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type !== "success" || parts.policies.length !== compiled.policyIds.length || parts.policy_templates.length > 0) return null;
    const positional = parts.policies.map((_, i) => `policy${i}`).sort();
    const byPositional = new Map<string, string>();
    const policies: Record<string, string> = {};
    parts.policies.forEach((policyText, i) => {
      const id = compiled.policyIds[Number(positional[i]!.slice(6))]!;
      byPositional.set(positional[i]!, id);
      policies[id] = policyText;
    });
    const { literals, attributes, wholeContext } = compiled.observed;
    return { byPositional, policies, order: compiled.policyIds, observed: { literals: new Set(literals), attributes: new Set(attributes), wholeContext }, actions: compiled.actions };
  }

  /**
   * The org's policy set at `version`, prepared once per isolate. Validates first: a set
   * that does not validate is never prepared (throws with the errors). With its compiled
   * form (stored with the version) it skips parsing policy by policy.
   */
  function preparePolicySet(org: string, version: number, text: string, compiled?: CompiledPolicySet): PreparedPolicySet {
    const current = prepared.get(org);
    if (current && current.version === version) return current;
    const fast = compiled ? fromCompiled(text, compiled) : null;
    let split: { policies: Record<string, string>; order: string[]; observed: Observed; actions: Record<string, string[] | null> };
    if (fast) {
      const validation = validateSplit(text, fast);
      if (!validation.ok) throw new PolicySetInvalid(validation.errors);
      split = fast;
    } else {
      const { validation, parsed } = validated(text);
      if (!validation.ok) throw new PolicySetInvalid(validation.errors);
      if (!parsed.ok) throw new PolicySetInvalid(parsed.errors);
      split = { ...parsed, observed: observe(parsed.json) };
    }
    const set: PreparedPolicySet = { org, version, policyIds: split.order, policies: split.policies, slot: `${schemaName}:org:${org}`, observed: split.observed, actions: split.actions, decisions: new Map(), byPrincipal: new WeakMap(), validShapes: new Set() };
    prepared.set(org, set);
    return set;
  }

  /**
   * A set that is not an org's active one (a draft, or an older version under test or
   * simulation): validated, then held in one scratch slot that any such set may take over
   * (each decision puts its own set back when another took the slot).
   */
  function prepareScratch(version: number, text: string): PreparedPolicySet {
    const { validation, parsed } = validated(text);
    if (!validation.ok) throw new PolicySetInvalid(validation.errors);
    if (!parsed.ok) throw new PolicySetInvalid(parsed.errors);
    const set: PreparedPolicySet = { org: "", version, policyIds: parsed.order, policies: parsed.policies, slot: `${schemaName}:scratch`, observed: observe(parsed.json), actions: parsed.actions, decisions: new Map(), byPrincipal: new WeakMap(), validShapes: new Set() };
    return set;
  }

  /**
   * The slot holding the set's policies that can apply to `action` (a policy whose scope
   * names other actions never applies, so Cedar need not evaluate it), parsed into Cedar's
   * store on first use. The set Cedar holds in each slot is tracked: a slot is reused by the
   * org's next version, and a caller may still hold an older one (it is put back).
   */
  const inSlot = new Map<string, PreparedPolicySet>();
  function slotFor(set: PreparedPolicySet, action: Action | "*"): string {
    const slot = `${set.slot}|${action}`;
    if (inSlot.get(slot) === set) return slot;
    const applies = (id: string) => action === "*" || (set.actions[id]?.includes(action) ?? true);
    const policies = Object.fromEntries(Object.entries(set.policies).filter(([id]) => applies(id)));
    const answer = cedar.preparsePolicySet(slot, { staticPolicies: policies });
    if (answer.type !== "success") throw new PolicySetInvalid(answer.errors.map((e) => errorOf(e)));
    inSlot.set(slot, set);
    return slot;
  }

  /**
   * A decision, from the set's cache when it has seen a request it cannot tell apart from
   * this one. `subject` is the key part of principal and context (observed.ts); `entities`
   * are built only when Cedar has to run.
   */
  function decideIn(set: PreparedPolicySet, principalEntity: { type: string; id: string }, resourceEntity: { type: string; id: string }, action: Action, context: Record<string, CedarValueJson>, subject: () => string, resourceSlice: Slice, principalSlice: EntityJson[]): Decision {
    if (!cacheDecisions) return cedarDecide(set, principalEntity, resourceEntity, action, context, [...principalSlice, ...resourceSlice.values()]);
    const key = `${action}\u0002${subject()}\u0002${resourceKey(set.observed, resourceEntity, resourceSlice.values())}`;
    const cached = set.decisions.get(key);
    if (cached) return cached;
    const entities = [...principalSlice, ...resourceSlice.values()];
    const needed = neededEntities(set.observed, { principal: principalEntity, resource: resourceEntity, context, entities });
    // Cedar's request check depends on the principal's, the action's and the resource's types
    // and on the context's types, which Airlock builds itself, except for tool arguments:
    // once a shape passed, requests of that shape whose arguments have their declared types skip it.
    const validate = !inputConforms(context.input as Record<string, CedarValueJson> | undefined) || !set.validShapes.has(shapeOf(principalEntity, action, resourceEntity));
    let decision: Decision;
    if (validate) decision = cedarDecide(set, principalEntity, resourceEntity, action, context, needed, true);
    else {
      const pruned = pruneRequest(set.observed, context, needed, ALWAYS_KEYED);
      decision = cedarDecide(set, principalEntity, resourceEntity, action, pruned.context, pruned.entities, false);
    }
    if (set.decisions.size >= MAX_CACHED_DECISIONS) set.decisions.clear();
    set.decisions.set(key, decision);
    return decision;
  }

  function cedarDecide(set: PreparedPolicySet, principalEntity: { type: string; id: string }, resourceEntity: { type: string; id: string }, action: Action, context: Record<string, CedarValueJson>, entities: EntityJson[], validateRequest = true): Decision {
    const answer = cedar.statefulIsAuthorized({
      principal: principalEntity,
      action: uid("Action", action),
      resource: resourceEntity,
      context,
      entities,
      // The fast path evaluates only the policies that can apply to the action; without it, all.
      preparsedPolicySetId: slotFor(set, cacheDecisions ? action : "*"),
      // Unchecked (a shape Cedar's request check passed before), Cedar needs no schema either:
      // Airlock builds the entities and the context to it, with explicit extension values.
      ...(validateRequest ? { preparsedSchemaName: schemaName, validateRequest } : {}),
    });
    // Frozen: a cached decision is handed to every request that shares it.
    if (answer.type !== "success") return Object.freeze({ decision: "deny", determining: [], errors: answer.errors.map((e) => e.message) });
    if (validateRequest) set.validShapes.add(shapeOf(principalEntity, action, resourceEntity));
    const { decision, diagnostics } = answer.response;
    return Object.freeze({
      decision,
      determining: diagnostics.reason,
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
    });
  }

  /**
   * A request's key among the requests of one principal object (the router's and the MCP
   * gateway's caches hand out the same object while its authentication holds): the action, the
   * resource and the facts Cedar is given. Null when the set reads the clock, which only the
   * full key (decideIn) can tell apart.
   */
  function requestKey(set: PreparedPolicySet, request: DecisionRequest): string | null {
    const { observed } = set;
    if (observed.wholeContext || observed.attributes.has("now") || observed.attributes.has("time")) return null;
    const input = request.input && inputAttributes.size ? Object.entries(request.input).filter(([name]) => inputAttributes.has(name)) : null;
    return `${request.action}\u0002${JSON.stringify(request.resource)}\u0002${JSON.stringify([request.sourceIp ?? null, request.findings ?? null, input])}`;
  }

  /** One decision; default deny when no policy permits. */
  function decide(set: PreparedPolicySet, request: DecisionRequest): Decision {
    const key = cacheDecisions ? requestKey(set, request) : null;
    if (key === null) return decideRequest(set, request);
    let remembered = set.byPrincipal.get(request.principal);
    const known = remembered?.get(key);
    if (known) return known;
    const decision = decideRequest(set, request);
    if (!remembered) set.byPrincipal.set(request.principal, (remembered = new Map()));
    else if (remembered.size >= MAX_CACHED_DECISIONS) remembered.clear();
    remembered.set(key, decision);
    return decision;
  }

  function decideRequest(set: PreparedPolicySet, request: DecisionRequest): Decision {
    const principalSlice: Slice = new Map();
    principalEntities(principalSlice, request.principal);
    const resourceSlice: Slice = new Map();
    const resourceEntity = resourceEntities(resourceSlice, request.resource);
    const principalEntity = principalUid(request.principal);
    const context = contextFor(request.action, request, request.principal, inputAttributes);
    const principalList = [...principalSlice.values()];
    const subject = () => subjectKey(set.observed, principalEntity, context, principalList, ALWAYS_KEYED);
    return decideIn(set, principalEntity, resourceEntity, request.action, context, subject, resourceSlice, principalList);
  }

  /** Decisions for many resources of one principal and action (e.g. every tool of a `tools/list`), in order. */
  function decideMany(set: PreparedPolicySet, request: Omit<DecisionRequest, "resource"> & { resources: ResourceDescriptor[] }): Decision[] {
    const base: Slice = new Map();
    principalEntities(base, request.principal);
    const principalEntity = principalUid(request.principal);
    const context = contextFor(request.action, request, request.principal, inputAttributes);
    const shared = [...base.values()];
    let subject: string | undefined;
    const subjectOnce = () => (subject ??= subjectKey(set.observed, principalEntity, context, shared, ALWAYS_KEYED));
    return request.resources.map((resource) => {
      const slice: Slice = new Map();
      const resourceEntity = resourceEntities(slice, resource);
      return decideIn(set, principalEntity, resourceEntity, request.action, context, subjectOnce, slice, shared);
    });
  }

  return { schema, inputAttributes: inputAttributes as ReadonlySet<string>, validatePolicySet, compile, preparePolicySet, prepareScratch, decide, decideMany };
}

export type Engine = ReturnType<typeof createEngine>;

export class PolicySetInvalid extends Error {
  readonly errors: PolicyError[];
  constructor(errors: PolicyError[]) {
    super(`policy set does not validate: ${errors.map((e) => e.message).join("; ")}`);
    this.name = "PolicySetInvalid";
    this.errors = errors;
  }
}
