import { parse, type Compare, type Filter } from "scim2-parse-filter";
import { badRequest } from "./errors.ts";
import { containerOf, findAttribute, isObject, resolvePath, type Attribute, type ResourceType } from "./schema.ts";

/**
 * SCIM filters (RFC 7644 §3.4.2.2). `scim2-parse-filter` parses; evaluation is ours,
 * because it must follow the schema: attribute names are case-insensitive, string
 * comparisons honour `caseExact`, booleans only compare for equality, unknown
 * attributes are an `invalidFilter` rather than a silent non-match.
 */
export type { Filter };
export type Predicate = (node: Record<string, unknown>) => boolean;

/** A filter longer than this is refused before parsing (the tokenizer is quadratic). */
const MAX_FILTER_LENGTH = 2048;

export function parseFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw badRequest("invalidFilter", `The filter is longer than ${MAX_FILTER_LENGTH} characters`);
  try {
    return parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : "unparseable";
    throw badRequest("invalidFilter", `The filter is not valid SCIM filter syntax (${reason})`);
  }
}

interface Target {
  /** The attribute the comparison applies to (a multi-valued complex attribute compares its `value`). */
  attribute: Attribute;
  values(node: Record<string, unknown>): unknown[];
  present(node: Record<string, unknown>): boolean;
  /** Only for multi-valued complex attributes: `attr[filter]` evaluates the filter on each element. */
  elements?: { of(node: Record<string, unknown>): Record<string, unknown>[]; scope: Scope };
}
type Scope = (path: string) => Target | undefined;

const isPresent = (value: unknown): boolean =>
  value !== undefined && value !== null && value !== "" &&
  !(Array.isArray(value) && value.length === 0) && !(isObject(value) && Object.keys(value).length === 0);

function targetOf(attribute: Attribute, raw: (node: Record<string, unknown>) => unknown[]): Target {
  const valueSub = attribute.multiValued && attribute.type === "complex" ? findAttribute(attribute.subAttributes ?? [], "value") : undefined;
  return {
    attribute: valueSub ?? attribute,
    values: valueSub ? (node) => raw(node).flatMap((item) => (isObject(item) && item.value !== undefined ? [item.value] : [])) : raw,
    present: (node) => raw(node).some(isPresent),
    ...(attribute.multiValued && attribute.type === "complex"
      ? { elements: { of: (node: Record<string, unknown>) => raw(node).filter(isObject), scope: elementScope(attribute.subAttributes ?? []) } }
      : {}),
  };
}

export function elementScope(attributes: readonly Attribute[]): Scope {
  return (path) => {
    const attribute = findAttribute(attributes, path);
    return attribute ? targetOf(attribute, (node) => (node[attribute.name] === undefined ? [] : [node[attribute.name]])) : undefined;
  };
}

/** Paths into a resource: `userName`, `name.familyName`, `emails.value`, `meta.created`, `urn:…:User:department`. */
export function resourceScope(type: ResourceType): Scope {
  return (path) => {
    const resolved = resolvePath(type, path);
    if (!resolved?.attribute) return undefined;
    const { attribute, sub } = resolved;
    const raw = (node: Record<string, unknown>): unknown[] => {
      const value = containerOf(node, resolved, false)?.[attribute.name];
      if (value === undefined) return [];
      return attribute.multiValued && Array.isArray(value) ? value : [value];
    };
    if (!sub) return targetOf(attribute, raw);
    return targetOf(sub, (node) => raw(node).flatMap((item) => (isObject(item) && item[sub.name] !== undefined ? [item[sub.name]] : [])));
  };
}

/** Parses and checks a filter against a scope; the result evaluates it on resources (or elements). */
export function compileFilter(filter: Filter, scope: Scope): Predicate {
  const target = (path: string) => {
    const found = scope(path);
    if (!found) throw badRequest("invalidFilter", `The filter names an attribute this server does not have: ${path}`);
    return found;
  };
  switch (filter.op) {
    case "and": {
      const parts = filter.filters.map((f) => compileFilter(f, scope));
      return (node) => parts.every((p) => p(node));
    }
    case "or": {
      const parts = filter.filters.map((f) => compileFilter(f, scope));
      return (node) => parts.some((p) => p(node));
    }
    case "not": {
      const inner = compileFilter(filter.filter, scope);
      return (node) => !inner(node);
    }
    case "[]": {
      const { elements } = target(filter.attrPath);
      if (!elements) throw badRequest("invalidFilter", `${filter.attrPath} is not a multi-valued complex attribute`);
      const inner = compileFilter(filter.valFilter, elements.scope);
      return (node) => elements.of(node).some(inner);
    }
    case "pr": {
      const found = target(filter.attrPath);
      return (node) => found.present(node);
    }
    default: {
      const found = target(filter.attrPath);
      if (filter.compValue === null) {
        if (filter.op !== "eq" && filter.op !== "ne") throw badRequest("invalidFilter", `${filter.attrPath} ${filter.op}: null only compares with eq or ne`);
        return filter.op === "eq" ? (node) => !found.present(node) : (node) => found.present(node);
      }
      const test = comparison(found.attribute, filter.op, filter.attrPath, filter.compValue);
      if (filter.op === "ne") return (node) => !found.values(node).some(test);
      return (node) => found.values(node).some(test);
    }
  }
}

/** The test one value must pass; `ne` is evaluated as "no value equals". */
function comparison(attribute: Attribute, op: Compare["op"], attrPath: string, wanted: string | number | boolean): (value: unknown) => boolean {
  const refuse = (why: string) => badRequest("invalidFilter", `${attrPath} ${op}: ${why}`);
  if (attribute.type === "complex") throw refuse("a complex attribute cannot be compared; name a sub-attribute");
  const equalityOnly = op === "eq" || op === "ne";

  if (attribute.type === "boolean") {
    if (!equalityOnly || typeof wanted !== "boolean") throw refuse("a boolean attribute compares with eq or ne and true or false");
    return (value) => value === wanted;
  }
  if (attribute.type === "dateTime" && !["co", "sw", "ew"].includes(op)) {
    const instant = typeof wanted === "string" ? Date.parse(wanted) : Number.NaN;
    if (Number.isNaN(instant)) throw refuse("a dateTime attribute compares with an xsd:dateTime string");
    return (value) => typeof value === "string" && order(op, Date.parse(value) - instant);
  }
  const fold = (text: string) => (attribute.caseExact ? text : text.toLowerCase());
  const needle = fold(String(wanted));
  return (value) => {
    if (typeof value !== "string") return false;
    const haystack = fold(value);
    switch (op) {
      case "co": return haystack.includes(needle);
      case "sw": return haystack.startsWith(needle);
      case "ew": return haystack.endsWith(needle);
      default: return order(op, haystack < needle ? -1 : haystack > needle ? 1 : 0);
    }
  };
}

function order(op: Compare["op"], sign: number): boolean {
  switch (op) {
    case "gt": return sign > 0;
    case "ge": return sign >= 0;
    case "lt": return sign < 0;
    case "le": return sign <= 0;
    default: return sign === 0;
  }
}

/**
 * `attr eq value` conditions that every match must satisfy: the top-level filter or
 * its `and` conjuncts. Lets a caller narrow with SQL before evaluating the whole filter.
 */
export function requiredEqualities(filter: Filter): { attrPath: string; value: string | number | boolean }[] {
  if (filter.op === "and") return filter.filters.flatMap(requiredEqualities);
  if (filter.op === "eq" && filter.compValue !== null) return [{ attrPath: filter.attrPath, value: filter.compValue }];
  return [];
}

/** Whether a filter is only `eq` conditions joined by `and` (so it can describe a new element). */
export function isEqualityConjunction(filter: Filter): boolean {
  if (filter.op === "and") return filter.filters.every(isEqualityConjunction);
  return filter.op === "eq" && filter.compValue !== null;
}
