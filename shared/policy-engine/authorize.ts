import type { EventMessage } from "../events.ts";
import type { InputDeclaration } from "../policy.ts";
import type { StoredCompiledPolicySet } from "../db/tables/policies.ts";
import type { AuthorizeManyInput, AuthorizeManyResult, PolicyMode } from "../rpc.ts";
import * as cedar from "./cedar.ts";
import { emitDecision, manyDecisionsEvent } from "./decision-event.ts";
import { createEngine, type Engine, type PreparedPolicySet } from "./engine.ts";

/** An org's active policy set as airlock-auth hands it out (`AUTH.activePolicy`). */
export interface ActivePolicy {
  version: number;
  text: string;
  mode: PolicyMode;
  /** `context.input` attributes the set declares (tool arguments its policies read). */
  input: InputDeclaration;
  compiled: StoredCompiledPolicySet | null;
}

export interface Prepared {
  engine: Engine;
  set: PreparedPolicySet;
  mode: PolicyMode;
}

/** One engine per declaration of `context.input`, made once per isolate. */
const engines = new Map<string, Engine>();
export function engineFor(input: InputDeclaration = {}): Engine {
  const key = JSON.stringify(Object.entries(input).sort(([a], [b]) => (a < b ? -1 : 1)));
  let engine = engines.get(key);
  if (!engine) engines.set(key, (engine = createEngine(cedar, { input })));
  return engine;
}

/** The org's active set, prepared once per isolate per version. */
export function prepare(orgId: string, active: ActivePolicy): Prepared {
  const engine = engineFor(active.input);
  return { engine, set: engine.preparePolicySet(orgId, active.version, active.text, active.compiled ?? undefined), mode: active.mode };
}

export interface DecisionRecorder {
  events: Queue<EventMessage>;
  waitUntil(promise: Promise<unknown>): void;
}

/** One decision per resource; one decision event for the call, built and sent after the answer. */
export function authorizeWith({ engine, set, mode }: Prepared, input: AuthorizeManyInput, recorder: DecisionRecorder): AuthorizeManyResult {
  if (input.principal.org_id !== input.org_id) throw new Error("authorize: the principal belongs to another org");
  const facts = { ...input.facts, now: input.facts?.now ?? new Date() };
  const decisions = engine.decideMany(set, { ...facts, principal: input.principal, action: input.action, resources: input.resources });
  const org = { id: input.org_id, slug: input.principal.org_slug ?? "" };
  const record = { requestId: input.request_id, org, principal: input.principal, action: input.action, facts, version: set.version, mode, inputAttributes: engine.inputAttributes };
  recorder.waitUntil(emitDecision(recorder.events, () => manyDecisionsEvent(record, input.resources, decisions)));
  return { policy_version: set.version, mode, decisions };
}
