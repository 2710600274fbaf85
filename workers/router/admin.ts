import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { ADMIN_API, isReadOnlyRequest, isSelfServiceRequest, openApiDocument, ownersBySegment } from "../../shared/api/index.ts";
import { problem } from "../../shared/problem.ts";
import type { RouterEnv } from "./context.ts";
import { routerApi } from "./api/index.ts";
import { authenticate } from "./authenticate.ts";
import { jsonBody } from "./middleware/json-body.ts";

const OWNERS = ownersBySegment(ADMIN_API);

let document: unknown;
const adminDocument = (baseDomain: string) =>
  (document ??= openApiDocument(ADMIN_API, {
    title: "Airlock admin API",
    description: "Manage an org's users, teams, credentials and audit log. Errors are RFC 9457 problem+json with a stable `code`.",
    serverUrl: `https://{org}.${baseDomain}/api/v1`,
  }));

/** The org admin API at `https://<org>.<domain>/api/v1`, dispatched to the Worker that owns each resource. */
export const adminApi = new Hono<RouterEnv>();

adminApi.get("/openapi.json", async (c) => {
  c.set("operation", "admin.openapi");
  const target = c.get("target");
  const org = target?.kind === "org" ? await c.env.AUTH.resolveOrg(target.slug) : null;
  if (!org) return problem("unknown_org", { detail: "No org answers at this host", requestId: c.get("requestId") });
  c.set("org", org);
  return c.json(adminDocument(c.env.BASE_DOMAIN));
});

const segmentOf = (url: string) => new URL(url).pathname.split("/")[3] ?? "";

const nameOperation = createMiddleware<RouterEnv>(async (c, next) => {
  c.set("operation", `admin.${segmentOf(c.req.url)}`);
  await next();
});

adminApi.all("*", nameOperation, authenticate, jsonBody, async (c) => {
  const requestId = c.get("requestId");
  const principal = c.get("principal")!;
  const segment = segmentOf(c.req.url);
  const owner = OWNERS.get(segment);
  if (!owner) return problem("not_found", { detail: `No admin resource /api/v1/${segment}`, requestId });

  if (segment === "me") return c.json(principal);

  if (principal.kind !== "admin_token" && !isSelfServiceRequest(c.req.method, c.get("url").pathname)) {
    return problem("forbidden", { detail: "The admin API needs an admin token; API keys are for agents", requestId });
  }
  if (principal.roles.includes("auditor") && !isReadOnlyRequest(c.req.method, c.get("url").pathname)) {
    return problem("read_only_role", { detail: "Auditor tokens can only read", requestId });
  }
  const context = { requestId, org: c.get("org"), principal, configVersion: c.get("configVersion") };
  const router = { api: (request: Request, ctx: typeof context) => routerApi(request, ctx, c.env, c.executionCtx) };
  const services = { auth: c.env.AUTH, guardrail: c.env.GUARDRAIL, metrics: c.env.METRICS, "mcp-proxy": c.env.MCP_PROXY, router };
  return services[owner].api(c.req.raw, context);
});
