import { badRequest } from "./errors.ts";
import { commonAttributes, findAttribute, findExtension, isObject, type Attribute, type ResourceType } from "./schema.ts";

/**
 * Client values in canonical form: attribute names as the schema spells them (clients
 * vary the case), booleans as booleans (Entra sends "True"/"False"), unassigned values
 * (null, empty lists, empty objects) dropped. Unknown attributes are dropped and
 * read-only ones ignored, as RFC 7643 §2.2 has it for values a client may not set.
 */
export function coerceValue(attribute: Attribute, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (!attribute.multiValued) return coerceSingle(attribute, value, path);
  const items = (Array.isArray(value) ? value : [value])
    .map((item, index) => coerceSingle(attribute, item, `${path}[${index}]`))
    .filter((item) => item !== undefined);
  return items.length > 0 ? items : undefined;
}

function coerceSingle(attribute: Attribute, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (attribute.type) {
    case "complex": {
      if (!isObject(value)) throw badRequest("invalidValue", `${path} must be an object`);
      const out = coerceObject(attribute.subAttributes ?? [], value, path);
      return Object.keys(out).length > 0 ? out : undefined;
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
      throw badRequest("invalidValue", `${path} must be a boolean`);
    case "dateTime":
      if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return value;
      throw badRequest("invalidValue", `${path} must be an xsd:dateTime`);
    default:
      if (typeof value === "string") return value;
      // Numbers are accepted for string attributes (employee numbers come as either).
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      throw badRequest("invalidValue", `${path} must be a string`);
  }
}

/** The writable, known attributes of `value` among `attributes`, coerced. */
export function coerceObject(attributes: readonly Attribute[], value: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const attribute = findAttribute(attributes, key);
    if (!attribute || attribute.mutability === "readOnly") continue;
    const coerced = coerceValue(attribute, raw, path ? `${path}.${attribute.name}` : attribute.name);
    if (coerced !== undefined) out[attribute.name] = coerced;
  }
  return out;
}

/**
 * The writable view of a whole resource (a POST or PUT body, or a resource after PATCH):
 * core and common attributes at the top, each known extension under its URN.
 */
export function coerceResource(type: ResourceType, body: Record<string, unknown>): Record<string, unknown> {
  const core: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const extension = findExtension(type, key);
    if (extension) {
      if (value === null || value === undefined) continue;
      if (!isObject(value)) throw badRequest("invalidValue", `${extension.id} must be an object`);
      const coerced = coerceObject(extension.attributes, value, extension.id);
      if (Object.keys(coerced).length > 0) extensions[extension.id] = coerced;
    } else {
      core[key] = value;
    }
  }
  return { ...coerceObject([...commonAttributes, ...type.schema.attributes], core, ""), ...extensions };
}
