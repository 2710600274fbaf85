import type { Context } from "hono";
import { z } from "zod";
import { sha256Hex } from "../../../shared/crypto.ts";
import type { OrgScope } from "../../../shared/db/index.ts";
import type { OrgRequestContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";
import { badRequest, SCIM_CONTENT_TYPE, ScimError } from "./errors.ts";
import { isObject, resolvePath, type ResourceType } from "./schema.ts";

export type ScimEnv = {
  Bindings: { env: Env; context: OrgRequestContext };
  Variables: { scope: OrgScope; baseUrl: string };
};
export type ScimContext = Context<ScimEnv>;
export type Resource = Record<string, unknown> & { id: string };

export const LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/** Largest page; Okta and Entra page with `count=100`. Advertised as `filter.maxResults`. */
export const MAX_RESULTS = 200;

export function scimJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": SCIM_CONTENT_TYPE, ...headers } });
}

/** The request body as JSON; anything else is `invalidSyntax` (RFC 7644 §3.12). */
export async function readJson(c: ScimContext): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw badRequest("invalidSyntax", "The request body is not valid JSON");
  }
}

/** Validates a body against a zod schema; structure errors are `invalidSyntax`. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join(".") : "body";
  throw badRequest("invalidSyntax", `The request ${where} is not valid: ${issue.message}`);
}

/** A weak ETag over the resource's content: it changes exactly when a GET would differ. */
export async function versionOf(resource: Record<string, unknown>): Promise<string> {
  const { meta: _meta, ...content } = resource;
  return `W/"${(await sha256Hex(JSON.stringify(content))).slice(0, 20)}"`;
}

/** Adds `meta` (with `location` and `version`) to a resource built from a row. */
export async function withMeta(type: ResourceType, baseUrl: string, resource: Resource, createdAt: number, updatedAt: number): Promise<Resource> {
  return {
    ...resource,
    meta: {
      resourceType: type.name,
      created: new Date(createdAt).toISOString(),
      lastModified: new Date(updatedAt).toISOString(),
      location: `${baseUrl}${type.endpoint}/${resource.id}`,
      version: await versionOf(resource),
    },
  };
}

const metaOf = (resource: Resource) => resource.meta as { location: string; version: string };

/**
 * One resource, with the `ETag` (and on creation `Location`) headers RFC 7644 §3.14 asks
 * for; `body` is the resource as projected by `attributes`/`excludedAttributes`.
 */
export function resourceResponse(resource: Resource, status: 200 | 201 = 200, body: Record<string, unknown> = resource): Response {
  const { location, version } = metaOf(resource);
  return scimJson(body, status, { etag: version, ...(status === 201 ? { location } : {}) });
}

/** `If-Match` on writes: a stale version is refused with 412 rather than overwriting a newer one. */
export function checkIfMatch(c: ScimContext, current: Resource) {
  const header = c.req.header("if-match");
  if (!header || header.trim() === "*") return;
  const wanted = header.split(",").map((tag) => tag.trim());
  if (!wanted.includes(metaOf(current).version)) {
    throw new ScimError(412, `The resource has changed; its version is now ${metaOf(current).version}`);
  }
}

/** `If-None-Match` on reads: 304 when the client's copy is current. */
export function notModified(c: ScimContext, resource: Resource): boolean {
  const header = c.req.header("if-none-match");
  return !!header && header.split(",").map((tag) => tag.trim()).includes(metaOf(resource).version);
}

const Count = z.coerce.number().int();
export const ListQuery = z.object({
  filter: z.string().optional(),
  startIndex: Count.optional().transform((n) => Math.max(1, n ?? 1)),
  count: Count.optional().transform((n) => Math.min(MAX_RESULTS, Math.max(0, n ?? MAX_RESULTS))),
  attributes: z.string().max(2048).optional(),
  excludedAttributes: z.string().max(2048).optional(),
});
export type ListQuery = z.infer<typeof ListQuery>;

function toListQuery(raw: Record<string, unknown>): ListQuery {
  const result = ListQuery.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw badRequest("invalidValue", `${issue.path.join(".")} is not valid: ${issue.message}`);
  }
  return result.data;
}

/** `startIndex`, `count`, `attributes`… from the query string; non-numbers are `invalidValue`. */
export const listQuery = (c: ScimContext) => toListQuery(c.req.query());

const SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const SearchRequest = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(SEARCH_REQUEST_SCHEMA), `must include ${SEARCH_REQUEST_SCHEMA}`),
  filter: z.string().optional(),
  startIndex: z.number().int().optional(),
  count: z.number().int().optional(),
  attributes: z.array(z.string()).optional(),
  excludedAttributes: z.array(z.string()).optional(),
});

/** `POST /.search` (RFC 7644 §3.4.3): the query parameters of a GET, as a JSON body. */
export function searchQuery(body: unknown): ListQuery {
  const search = parseBody(SearchRequest, body);
  return toListQuery({
    filter: search.filter,
    startIndex: search.startIndex,
    count: search.count,
    attributes: search.attributes?.join(","),
    excludedAttributes: search.excludedAttributes?.join(","),
  });
}

export function listResponse(resources: Record<string, unknown>[], totalResults: number, startIndex: number) {
  return scimJson({
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  });
}

const paths = (list: string | undefined) => (list ?? "").split(",").map((p) => p.trim()).filter(Boolean);

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): `id` and `schemas` are always
 * returned; names this server does not know are ignored.
 */
export function project(type: ResourceType, resource: Record<string, unknown>, query: Pick<ListQuery, "attributes" | "excludedAttributes">) {
  const wanted = paths(query.attributes).map((p) => resolvePath(type, p)).filter((p) => p !== undefined);
  const excluded = paths(query.excludedAttributes).map((p) => resolvePath(type, p)).filter((p) => p !== undefined);
  if (wanted.length === 0 && excluded.length === 0) return resource;

  if (wanted.length > 0) {
    const out: Record<string, unknown> = { schemas: resource.schemas, id: resource.id };
    for (const { extension, attribute, sub } of wanted) {
      const source = extension ? resource[extension.id] : resource;
      if (!isObject(source)) continue;
      const target = extension ? ((out[extension.id] ??= {}) as Record<string, unknown>) : out;
      if (!attribute) Object.assign(target, source);
      else if (!sub) target[attribute.name] = source[attribute.name];
      else target[attribute.name] = pick(source[attribute.name], sub.name, target[attribute.name]);
    }
    return out;
  }

  const out = structuredClone(resource);
  for (const { extension, attribute, sub } of excluded) {
    if (attribute?.returned === "always") continue;
    const holder = extension ? out[extension.id] : out;
    if (!isObject(holder)) continue;
    if (!attribute) delete out[extension!.id];
    else if (!sub) delete holder[attribute.name];
    else for (const item of [holder[attribute.name]].flat()) if (isObject(item)) delete item[sub.name];
  }
  return out;
}

/** One sub-attribute of a complex value (or of each element of a multi-valued one), merged into what was already picked. */
function pick(value: unknown, sub: string, already: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => ({ ...(Array.isArray(already) && isObject(already[i]) ? already[i] : {}), ...(isObject(item) && sub in item ? { [sub]: item[sub] } : {}) }));
  }
  if (!isObject(value) || !(sub in value)) return already;
  return { ...(isObject(already) ? already : {}), [sub]: value[sub] };
}

/** Whether a D1 write failed on a unique index (drizzle wraps the D1 error as `cause`). */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.message.includes("UNIQUE constraint failed")) return true;
  }
  return false;
}
