import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { problem, ProblemError, zodErrors } from "../problem.ts";
import type { MiddlewareHandler } from "hono";
import { orgStateOf, type ApiContext } from "../rpc.ts";
import { database, orgScope } from "../db/index.ts";
import { isReadOnlyRequest } from "./index.ts";

export type ApiBindings<E> = { env: E; context: ApiContext };

/**
 * The Hono app a Worker serves its share of the admin API with: zod validation from the
 * shared contract, and every failure as RFC 9457 problem+json with a stable code.
 */
export function apiApp<E>() {
  const app = new OpenAPIHono<{ Bindings: ApiBindings<E> }>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const target = result.target === "json" ? "body" : result.target;
      const code = target === "body" ? "validation_failed" : "invalid_request";
      return problem(code, {
        detail: `The request ${target} is not valid`,
        errors: zodErrors(result.error),
        requestId: c.env.context.requestId,
      });
    },
  });

  app.onError((error, c) => {
    const requestId = c.env.context.requestId;
    if (error instanceof ProblemError) return problem(error.code, { detail: error.message, errors: error.errors, requestId });
    if (error instanceof HTTPException && error.status === 400) {
      return problem("malformed_json", { detail: "The request body is not valid JSON", requestId });
    }
    console.error(JSON.stringify({ level: "error", request_id: requestId, error: error instanceof Error ? error.message : String(error) }));
    return problem("internal_error", { detail: "Something went wrong on our side; quote the request id to support", requestId });
  });

  app.notFound((c) => problem("not_found", { detail: `No route ${c.req.method} ${new URL(c.req.url).pathname}`, requestId: c.env.context.requestId }));
  return app;
}

/**
 * After a successful admin write, bump the org's config version so every isolate's caches
 * (credentials, rules, detectors…) reload on their next request.
 */
export function bumpConfigVersionOnWrite<E extends { ORG_STATE: DurableObjectNamespace }>(): MiddlewareHandler<{ Bindings: ApiBindings<E> }> {
  return async (c, next) => {
    await next();
    const { org } = c.env.context;
    if (org && !isReadOnlyRequest(c.req.method, new URL(c.req.url).pathname) && c.res.status < 400) await orgStateOf(c.env.env.ORG_STATE, org.id).bumpConfigVersion();
  };
}

/** Env of a Worker whose admin resources live in D1 and whose writes bump the org's config version. */
type OrgDataEnv = { DB: D1Database; ORG_STATE: DurableObjectNamespace };

/** A Worker's admin resources at `/api/v1`; every write bumps the org's config version (its caches' key). */
export function orgAdminApp<E extends OrgDataEnv>() {
  const app = apiApp<E>().basePath("/api/v1");
  app.use(bumpConfigVersionOnWrite<E>());
  return app;
}

/** The org-scoped data access for this request: the only way admin handlers reach D1. */
export function orgScopeOf<E extends OrgDataEnv>(c: { env: ApiBindings<E> }) {
  return orgScope(database(c.env.env.DB), orgOf(c.env.context).id);
}

export function orgOf(context: ApiContext) {
  if (!context.org) throw new ProblemError("unknown_org", "This API is served on an org's host");
  return context.org;
}
