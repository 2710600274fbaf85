// What a policy set can observe of a request, so that requests it cannot tell apart share
// one Cedar evaluation. A Cedar policy reaches request data only through entity literals
// (`Airlock::McpServer::"prod-db"`), attribute access (`resource.tags`, `context has input`)
// and variables; it has no reflection. So two requests that agree on every attribute the
// set names, on every entity id the set names as a literal, and on the shape of the entity
// graph (types, parents) get the same decision and the same determining policies: a tool of
// a server no policy names, with no tag any policy reads, is decided once for all such tools.
import type { CedarValueJson, EntityJson, EntityUidJson } from "@cedar-policy/cedar-wasm/web";

export interface Observed {
  /** `type\0id` of every entity literal in the set. */
  literals: ReadonlySet<string>;
  /** Every attribute name the set reads (`.attr`, `has attr`) or writes in a record literal, on any entity or record. */
  attributes: ReadonlySet<string>;
  /** The set uses `context` as a whole (e.g. compares it to a record): every context attribute counts. */
  wholeContext: boolean;
}

const isUid = (v: Record<string, unknown>) => typeof v.type === "string" && typeof v.id === "string" && Object.keys(v).length === 2;

/** Walks the JSON form (Cedar's EST) of each policy. */
export function observe(policies: unknown[]): Observed {
  const literals = new Set<string>();
  const attributes = new Set<string>();
  let wholeContext = false;
  const walk = (node: unknown, accessed = false): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n));
    if (!node || typeof node !== "object") return;
    const obj = node as Record<string, unknown>;
    if (isUid(obj)) literals.add(`${obj.type}\u0000${obj.id}`);
    if (obj.Var === "context" && !accessed) wholeContext = true;
    // A record literal compared with a record of the request names every key it holds.
    if (obj.Record && typeof obj.Record === "object") for (const key of Object.keys(obj.Record)) attributes.add(key);
    for (const [key, value] of Object.entries(obj)) {
      if ((key === "." || key === "has") && value && typeof value === "object") {
        // `context has input.sql` is one `has` with the path `["input", "sql"]`.
        const access = value as { left: unknown; attr: string | string[] };
        for (const attr of Array.isArray(access.attr) ? access.attr : [access.attr]) attributes.add(attr);
        walk(access.left, true);
      } else walk(value);
    }
  };
  walk(policies);
  return { literals, attributes, wholeContext };
}

/** A value as the set sees it: records keep only the attributes it reads (`context.time.hour` needs no minute). */
function visible(observed: Observed, value: CedarValueJson): string {
  if (observed.wholeContext || value === null || typeof value !== "object" || Array.isArray(value) || "__extn" in value || "__entity" in value) return JSON.stringify(value);
  const record = value as Record<string, CedarValueJson>;
  return `{${Object.keys(record).sort().filter((k) => observed.attributes.has(k)).map((k) => `${JSON.stringify(k)}:${visible(observed, record[k]!)}`).join(",")}}`;
}

/** An entity as the set sees it: its type, its id only if named, the attributes it reads, its parents likewise. */
function entityKey(observed: Observed, byUid: Map<string, EntityJson>, uid: EntityUidJson, out: string[], seen: Set<string>) {
  const u = uid as { type: string; id: string };
  const full = `${u.type}\u0000${u.id}`;
  const named = observed.literals.has(full);
  out.push(u.type, named ? u.id : "");
  const entity = byUid.get(full);
  if (!entity || seen.has(full)) return out.push("~");
  seen.add(full);
  const attrs = entity.attrs as Record<string, CedarValueJson>;
  for (const name of Object.keys(attrs).sort()) if (observed.attributes.has(name)) out.push(name, visible(observed, attrs[name]!));
  out.push("(");
  for (const parent of entity.parents as EntityUidJson[]) entityKey(observed, byUid, parent, out, seen);
  out.push(")");
}

const byUidOf = (entities: Iterable<EntityJson>) => {
  const byUid = new Map<string, EntityJson>();
  for (const e of entities) {
    const u = e.uid as { type: string; id: string };
    byUid.set(`${u.type}\u0000${u.id}`, e);
  }
  return byUid;
};

/**
 * The cache key of a request under a set, in two parts (equal keys, equal decisions): who
 * asks and when (principal and context, over the principal's entities), and what (the
 * resource, over its entities); a tools/list computes the first once. `always` names context
 * attributes that count even when no policy reads them (they can make Cedar refuse the
 * request: tool arguments of the wrong type, a malformed IP).
 */
export function resourceKey(observed: Observed, resource: EntityUidJson, entities: Iterable<EntityJson>): string {
  const out: string[] = [];
  entityKey(observed, byUidOf(entities), resource, out, new Set());
  return out.join("\u0001");
}

export function subjectKey(observed: Observed, principal: EntityUidJson, context: Record<string, CedarValueJson>, entities: Iterable<EntityJson>, always: ReadonlySet<string>): string {
  const byUid = byUidOf(entities);
  const out: string[] = [];
  entityKey(observed, byUid, principal, out, new Set());
  out.push("|");
  for (const [name, value] of Object.entries(context)) {
    if (!(observed.wholeContext || observed.attributes.has(name) || always.has(name))) continue;
    // An entity in the context (the agent) counts as the set sees it.
    const ref = (value as { __entity?: EntityUidJson }).__entity;
    if (ref) {
      out.push(name, "=");
      entityKey(observed, byUid, ref, out, new Set());
    } else out.push(name, always.has(name) ? JSON.stringify(value) : visible(observed, value));
  }
  return out.join("\u0001");
}

/**
 * The entities Cedar needs for a request under a set: the principal, the resource, every
 * entity with parents (the hierarchy `in` walks), and others only when the set can read an
 * attribute of theirs (through a literal naming them, or `context.agent`). Cedar converts
 * every entity it is handed (most of a call's cost); one it is not handed still answers
 * `in` and `==` alike.
 */
export function neededEntities(
  observed: Observed,
  request: { principal: EntityUidJson; resource: EntityUidJson; context: Record<string, CedarValueJson>; entities: EntityJson[] },
): EntityJson[] {
  const id = (u: EntityUidJson) => `${(u as { type: string }).type}\u0000${(u as { id: string }).id}`;
  const reachable = new Set([id(request.principal), id(request.resource)]);
  for (const value of Object.values(request.context)) {
    const ref = (value as { __entity?: EntityUidJson } | null)?.__entity;
    if (ref) reachable.add(id(ref));
  }
  return request.entities.filter((e) => {
    const uid = id(e.uid);
    if (uid === id(request.principal) || uid === id(request.resource) || (e.parents as EntityUidJson[]).length > 0) return true;
    if (!(reachable.has(uid) || observed.literals.has(uid))) return false;
    return Object.keys(e.attrs as object).some((name) => observed.attributes.has(name));
  });
}

/** A value with only the record attributes the set reads (what `visible` keys on), for Cedar. */
function pruneValue(observed: Observed, value: CedarValueJson): CedarValueJson {
  if (value === null || typeof value !== "object" || Array.isArray(value) || "__extn" in value || "__entity" in value) return value;
  const record = value as Record<string, CedarValueJson>;
  return Object.fromEntries(Object.keys(record).filter((k) => observed.attributes.has(k)).map((k) => [k, pruneValue(observed, record[k]!)]));
}

/**
 * The request as the set can observe it, for a Cedar call without the schema (one whose
 * shape the schema already passed): attributes no policy reads are left out of the context
 * and the entities. Converting them is most of what a Cedar call costs, and a policy cannot
 * tell them missing (reading or testing one would name it).
 */
export function pruneRequest(observed: Observed, context: Record<string, CedarValueJson>, entities: EntityJson[], always: ReadonlySet<string>) {
  const pruned = entities.map((e): EntityJson => ({ ...e, attrs: pruneValue(observed, e.attrs as CedarValueJson) as Record<string, CedarValueJson> }));
  if (observed.wholeContext) return { context, entities: pruned };
  const kept: Record<string, CedarValueJson> = {};
  for (const [name, value] of Object.entries(context)) {
    if (always.has(name)) kept[name] = value;
    else if (observed.attributes.has(name)) kept[name] = pruneValue(observed, value);
  }
  return { context: kept, entities: pruned };
}
