import { z } from "zod";
import { coerceObject, coerceValue } from "./coerce.ts";
import { badRequest } from "./errors.ts";
import { compileFilter, elementScope, isEqualityConjunction, parseFilter, requiredEqualities, type Predicate } from "./filter.ts";
import { containerOf, findAttribute, isObject, resolvePath, type Attribute, type ResolvedPath, type ResourceType } from "./schema.ts";

export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** RFC 7644 §3.5.2. `op` is case-insensitive: Entra sends `Add`, `Replace`, `Remove`. */
export const PatchRequest = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(PATCH_OP_SCHEMA), `must include ${PATCH_OP_SCHEMA}`),
  Operations: z
    .array(
      z.object({
        op: z.string().transform((op) => op.toLowerCase()).pipe(z.enum(["add", "remove", "replace"])),
        path: z.string().min(1).max(1024).optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(1000),
});
export type PatchOperation = z.infer<typeof PatchRequest>["Operations"][number];
type Op = PatchOperation["op"];

/** A PATCH path: an attribute (or whole extension), optionally a value filter, optionally a sub-attribute. */
interface PatchPath {
  text: string;
  resolved: ResolvedPath;
  filter: { predicate: Predicate; describes: Record<string, unknown> | null } | null;
}

function parsePath(type: ResourceType, text: string): PatchPath {
  const invalid = (why: string) => badRequest("invalidPath", `The path ${JSON.stringify(text)} ${why}`);
  const open = text.indexOf("[");
  if (open === -1) {
    const resolved = resolvePath(type, text);
    if (!resolved) throw invalid("names no attribute of this resource");
    return { text, resolved, filter: null };
  }
  const close = closingBracket(text, open);
  if (close === -1) throw invalid("has an unclosed [");
  const after = text.slice(close + 1);
  if (after !== "" && !/^\.[A-Za-z$][\w$-]*$/.test(after)) throw invalid("continues after ] with something other than .subAttribute");
  const resolved = resolvePath(type, text.slice(0, open) + after);
  if (!resolved?.attribute) throw invalid("names no attribute of this resource");
  const { attribute } = resolved;
  if (!attribute.multiValued || attribute.type !== "complex") throw invalid("filters an attribute that is not multi-valued");
  let filter;
  try {
    filter = parseFilter(text.slice(open + 1, close));
  } catch {
    throw invalid("has a value filter that is not valid SCIM filter syntax");
  }
  const predicate = compileFilter(filter, elementScope(attribute.subAttributes ?? []));
  return { text, resolved, filter: { predicate, describes: describedElement(attribute, filter) } };
}

/** Index of the `]` that closes the `[` at `open`, skipping quoted strings. */
function closingBracket(text: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < text.length; i++) {
    const char = text[i];
    if (quoted && char === "\\") i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === "]") return i;
  }
  return -1;
}

/** `emails[type eq "work"]` describes `{ type: "work" }`: the element to create when none matches. */
function describedElement(attribute: Attribute, filter: ReturnType<typeof parseFilter>): Record<string, unknown> | null {
  if (!isEqualityConjunction(filter)) return null;
  const element: Record<string, unknown> = {};
  for (const { attrPath, value } of requiredEqualities(filter)) {
    const sub = findAttribute(attribute.subAttributes ?? [], attrPath);
    if (!sub) return null;
    element[sub.name] = value;
  }
  return element;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Applies PATCH operations to a resource (as returned by GET) and returns the result;
 * the caller stores it as it would a PUT body. Any failing operation fails them all
 * (RFC 7644 §3.5.2: the PATCH is atomic).
 */
export function applyPatch(type: ResourceType, resource: Record<string, unknown>, operations: PatchOperation[]): Record<string, unknown> {
  const doc = structuredClone(resource);
  for (const operation of operations) {
    if (operation.path !== undefined) {
      applyOne(doc, operation.op, parsePath(type, operation.path), operation.value);
      continue;
    }
    if (operation.op === "remove") throw badRequest("noTarget", "A remove operation needs a path");
    if (!isObject(operation.value)) throw badRequest("invalidValue", `An ${operation.op} without a path needs an object of attributes as its value`);
    // Each key is a path: `active`, `name.givenName`, `urn:…:enterprise:2.0:User:department`, or an extension's URN.
    for (const [key, value] of Object.entries(operation.value)) {
      if (key.toLowerCase() === "schemas") continue;
      // Okta repeats the resource's own id when it renames a group.
      if (key.toLowerCase() === "id" && value === doc.id) continue;
      applyOne(doc, operation.op, parsePath(type, key), value);
    }
  }
  return doc;
}

function applyOne(doc: Record<string, unknown>, op: Op, path: PatchPath, value: unknown) {
  const { resolved, filter } = path;
  const { attribute, sub } = resolved;

  if (!attribute) {
    // The whole extension: its sub-attributes are replaced or added one by one, or it goes.
    const extension = resolved.extension!;
    if (op === "remove") {
      delete doc[extension.id];
      return;
    }
    if (!isObject(value)) throw badRequest("invalidValue", `${extension.id} must be an object`);
    Object.assign(containerOf(doc, resolved, true)!, coerceObject(extension.attributes, value, extension.id));
    return;
  }

  if (attribute.mutability === "readOnly" || sub?.mutability === "readOnly") {
    throw badRequest("mutability", `${path.text} is read-only`);
  }
  const container = containerOf(doc, resolved, op !== "remove");
  if (!container) return;
  const name = attribute.name;
  const current = container[name];

  if (filter) {
    const items = Array.isArray(current) ? current.filter(isObject) : [];
    const matched = items.filter(filter.predicate);
    if (op === "remove") {
      if (sub) for (const item of matched) delete item[sub.name];
      else setOrDelete(container, name, items.filter((item) => !matched.includes(item)));
      return;
    }
    const update = sub ? { [sub.name]: coerceValue(sub, value, path.text) } : coerceValue({ ...attribute, multiValued: false }, value, path.text);
    if (!isObject(update)) throw badRequest("invalidValue", `${path.text} needs a value`);
    if (matched.length > 0) {
      for (const item of matched) {
        if (op === "replace" && !sub) for (const key of Object.keys(item)) delete item[key];
        Object.assign(item, update);
      }
      return;
    }
    // RFC 7644 §3.5.2.3 answers noTarget; but Entra sets `emails[type eq "work"].value` on users
    // that have no work email yet, so an equality filter describes the element to add.
    if (!filter.describes) throw badRequest("noTarget", `No value of ${name} matches ${path.text}`);
    setOrDelete(container, name, [...items, { ...filter.describes, ...update }]);
    return;
  }

  if (sub) {
    if (attribute.multiValued) throw badRequest("invalidPath", `${path.text}: select the values of ${name} with a filter, e.g. ${name}[type eq "work"].${sub.name}`);
    const parent = isObject(current) ? current : {};
    const coerced = op === "remove" ? undefined : coerceValue(sub, value, path.text);
    if (coerced === undefined) delete parent[sub.name];
    else parent[sub.name] = coerced;
    setOrDelete(container, name, parent);
    return;
  }

  if (op === "remove") {
    // Entra removes members with a value list instead of a filter: remove the values named.
    if (attribute.multiValued && Array.isArray(value) && Array.isArray(current)) {
      const doomed = value.filter(isObject).map((item) => item.value);
      setOrDelete(container, name, current.filter((item) => !(isObject(item) && doomed.includes(item.value))));
    } else {
      delete container[name];
    }
    return;
  }

  const coerced = coerceValue(attribute, value, path.text);
  if (attribute.multiValued) {
    const incoming = (coerced ?? []) as unknown[];
    const kept = op === "add" && Array.isArray(current) ? current : [];
    setOrDelete(container, name, [...kept, ...incoming.filter((item) => !kept.some((k) => sameJson(k, item)))]);
  } else if (attribute.type === "complex") {
    // Sub-attributes not named in the value are left unchanged (RFC 7644 §3.5.2.1, §3.5.2.3).
    setOrDelete(container, name, { ...(isObject(current) ? current : {}), ...(coerced as Record<string, unknown> | undefined) });
  } else {
    setOrDelete(container, name, coerced);
  }
}

/** Unassigned (undefined, empty list, empty object) attributes are absent, not empty. */
function setOrDelete(container: Record<string, unknown>, name: string, value: unknown) {
  const empty = value === undefined || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
  if (empty) delete container[name];
  else container[name] = value;
}
