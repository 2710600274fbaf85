import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { alertDestinationRoutes } from "./alert-destinations.ts";
import { auditRoutes } from "./audit.ts";
import { adminTokenRoutes, apiKeyRoutes } from "./credentials.ts";
import { identityRoutes } from "./identity.ts";
import { limitRoutes } from "./limits.ts";
import { meRoutes } from "./me.ts";
import { mcpServerRoutes, mcpVirtualServerRoutes } from "./mcp-servers.ts";
import { mcpConnectionRoutes } from "./mcp-connections.ts";
import { modelRoutes } from "./models.ts";
import { providerRoutes } from "./providers.ts";
import { orgRoutes } from "./orgs.ts";
import { policyRoutes } from "./policies.ts";
import { scimTokenRoutes } from "./scim-token.ts";
import { teamRoutes } from "./teams.ts";
import { guardrailRoutes } from "./guardrails.ts";
import { userRoutes } from "./users.ts";

/** Which Worker serves each admin resource. The router dispatches on it; the document lists them all. */
export type ApiOwner = "router" | "auth" | "guardrail" | "metrics" | "mcp-proxy";

export const ADMIN_API = [
  { owner: "router", routes: meRoutes },
  { owner: "router", routes: providerRoutes },
  { owner: "router", routes: modelRoutes },
  { owner: "auth", routes: userRoutes },
  { owner: "auth", routes: teamRoutes },
  { owner: "auth", routes: apiKeyRoutes },
  { owner: "auth", routes: adminTokenRoutes },
  { owner: "auth", routes: identityRoutes },
  { owner: "auth", routes: scimTokenRoutes },
  { owner: "auth", routes: limitRoutes },
  { owner: "auth", routes: policyRoutes },
  { owner: "guardrail", routes: guardrailRoutes },
  { owner: "guardrail", routes: alertDestinationRoutes },
  { owner: "metrics", routes: auditRoutes },
  { owner: "mcp-proxy", routes: mcpServerRoutes },
  { owner: "mcp-proxy", routes: mcpVirtualServerRoutes },
  { owner: "mcp-proxy", routes: mcpConnectionRoutes },
] as const satisfies { owner: ApiOwner; routes: Record<string, RouteConfig> }[];

export const OPERATOR_API = [{ owner: "auth", routes: orgRoutes }] as const satisfies {
  owner: ApiOwner;
  routes: Record<string, RouteConfig>;
}[];

/** First path segment → owner, e.g. `teams` → `auth`. */
export function ownersBySegment(api: readonly { owner: ApiOwner; routes: Record<string, RouteConfig> }[]) {
  const owners = new Map<string, ApiOwner>();
  for (const { owner, routes } of api) {
    for (const route of Object.values(routes)) owners.set(route.path.split("/")[1]!, owner);
  }
  return owners;
}

/** Whether an admin request changes nothing: a GET/HEAD, or a route marked `READ_ONLY` (`/policies/test`). */
export function isReadOnlyRequest(method: string, pathname: string): boolean {
  return method === "GET" || method === "HEAD" || matchesMarked(READ_ONLY_ROUTES, method, pathname);
}

/** Whether an agent's own credential (API key, OAuth token) may make this request: routes marked `SELF_SERVICE`. */
export function isSelfServiceRequest(method: string, pathname: string): boolean {
  return matchesMarked(SELF_SERVICE_ROUTES, method, pathname);
}

/** The routes carrying an OpenAPI extension flag, as method + path pattern (`{param}` matches one segment). */
function markedRoutes(flag: string) {
  return ADMIN_API.flatMap(({ routes }) =>
    Object.values(routes as Record<string, RouteConfig>)
      .filter((route) => (route as Record<string, unknown>)[flag] === true)
      .map((route) => ({ method: route.method.toUpperCase(), path: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, "[^/]+")}$`) })),
  );
}

function matchesMarked(routes: { method: string; path: RegExp }[], method: string, pathname: string): boolean {
  const path = pathname.replace(/^\/api\/v1/, "");
  return routes.some((route) => route.method === method && route.path.test(path));
}

const READ_ONLY_ROUTES = markedRoutes("x-airlock-read-only");
const SELF_SERVICE_ROUTES = markedRoutes("x-airlock-self-service");

export function openApiDocument(
  api: readonly { routes: Record<string, RouteConfig> }[],
  info: { title: string; description: string; serverUrl: string },
) {
  const app = new OpenAPIHono();
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });
  for (const { routes } of api) for (const route of Object.values(routes)) app.openAPIRegistry.registerPath({ ...route, security: [{ bearerAuth: [] }] });
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: info.title, version: "1", description: info.description },
    servers: [{ url: info.serverUrl }],
  });
}

export * from "./common.ts";
export { auditRoutes, adminTokenRoutes, apiKeyRoutes, guardrailRoutes, identityRoutes, meRoutes, orgRoutes, teamRoutes, userRoutes };
