import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { sha256Hex, timingSafeEqualText } from "../../../shared/crypto.ts";
import { database, orgScope, schema, type OrgScope } from "../../../shared/db/index.ts";
import type { OrgRequestContext } from "../../../shared/rpc.ts";
import { parseToken } from "../../../shared/tokens.ts";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";
import { notFound, ScimError, scimErrorResponse } from "./errors.ts";
import { groupRoutes } from "./groups.ts";
import { listResponse, MAX_RESULTS, scimJson, type ScimEnv } from "./resource.ts";
import { enterpriseUserSchema, GROUP, groupSchema, resourceTypeResource, schemaResource, serviceProviderConfig, USER, userSchema } from "./schema.ts";
import { userRoutes } from "./users.ts";

/**
 * SCIM 2.0 (RFC 7643, RFC 7644) at `https://<org>.<domain>/scim/v2`: the org's IdP
 * (Okta, Entra ID…) provisions users and groups; groups are Airlock teams. The router
 * forwards here without authenticating; the org's SCIM token is checked below.
 */
const app = new Hono<ScimEnv>({ strict: false }).basePath("/scim/v2");

/** Airlock is served over HTTPS only (locally too), whatever scheme a proxy in front reports. */
export const scimBaseUrl = (requestUrl: string) => `https://${new URL(requestUrl).host}/scim/v2`;

const challenge = (error?: string) => ({ "www-authenticate": `Bearer realm="airlock-scim"${error ? `, error="${error}"` : ""}` });

async function tokenIsValid(scope: OrgScope, token: string): Promise<boolean> {
  const parsed = parseToken(token);
  if (parsed?.kind !== "scim_token") return false;
  // Scoped to the org, so another org's SCIM token is simply not found here.
  const row = await scope.db.query.scimTokens.findFirst({ where: scope.where(schema.scimTokens, eq(schema.scimTokens.id, parsed.id)) });
  if (!row || row.revokedAt !== null) return false;
  return timingSafeEqualText(await sha256Hex(token), row.secretHash);
}

const authenticate = createMiddleware<ScimEnv>(async (c, next) => {
  const scope = orgScope(database(c.env.env.DB), c.env.context.org.id);
  const header = c.req.header("authorization");
  if (!header) throw new ScimError(401, "Send the org's SCIM token as `Authorization: Bearer <token>`", undefined, challenge());
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (!token || !(await tokenIsValid(scope, token))) {
    throw new ScimError(401, "The SCIM token is not valid (rotated, revoked, or of another org)", undefined, challenge("invalid_token"));
  }
  c.set("scope", scope);
  c.set("baseUrl", scimBaseUrl(c.req.url));
  await next();
});

/**
 * After a successful write, bump the org's config version before answering: credentials
 * are cached per isolate by it, so a user set `active: false` (or removed from a team) is
 * refused (or loses the team) on their very next request.
 */
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const invalidateCaches = createMiddleware<ScimEnv>(async (c, next) => {
  await next();
  const write = WRITES.has(c.req.method) && !c.req.path.endsWith("/.search");
  if (write && c.res.status < 400) await orgState(c.env.env, c.env.context.org.id).bumpConfigVersion();
});

app.use(authenticate, invalidateCaches);

app.get("/ServiceProviderConfig", (c) => scimJson(serviceProviderConfig(c.var.baseUrl, MAX_RESULTS)));

const resourceTypes = [USER, GROUP];
app.get("/ResourceTypes", (c) => listOf(resourceTypes.map((t) => resourceTypeResource(t, c.var.baseUrl))));
app.get("/ResourceTypes/:name", (c) => {
  const type = resourceTypes.find((t) => t.name === c.req.param("name"));
  if (!type) throw notFound(`No resource type ${c.req.param("name")}`);
  return scimJson(resourceTypeResource(type, c.var.baseUrl));
});

const schemas = [userSchema, enterpriseUserSchema, groupSchema];
app.get("/Schemas", (c) => listOf(schemas.map((s) => schemaResource(s, c.var.baseUrl))));
app.get("/Schemas/:id", (c) => {
  const found = schemas.find((s) => s.id === c.req.param("id"));
  if (!found) throw notFound(`No schema ${c.req.param("id")}`);
  return scimJson(schemaResource(found, c.var.baseUrl));
});

app.route("/Users", userRoutes);
app.route("/Groups", groupRoutes);

// RFC 7644 §3.7 and §3.11: what a server does not support answers 501.
app.all("/Bulk", () => scimErrorResponse(new ScimError(501, "Bulk operations are not supported; send one request per resource")));
app.all("/Me", () => scimErrorResponse(new ScimError(501, "/Me is not supported: a SCIM token is the org's, not a user's")));

app.notFound((c) => scimErrorResponse(notFound(`No SCIM endpoint ${c.req.method} ${new URL(c.req.url).pathname}`)));
app.onError((error, c) => {
  if (error instanceof ScimError) return scimErrorResponse(error);
  console.error(JSON.stringify({ level: "error", worker: "auth", area: "scim", request_id: c.env.context.requestId, error: error.message }));
  return scimErrorResponse(new ScimError(500, `Something went wrong on our side; quote request id ${c.env.context.requestId} to support`));
});

const listOf = (resources: Record<string, unknown>[]) => listResponse(resources, resources.length, 1);

export async function serveScim(request: Request, context: OrgRequestContext, env: Env): Promise<Response> {
  return app.fetch(request, { env, context });
}
