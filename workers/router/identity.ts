import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { problem } from "../../shared/problem.ts";
import type { RouterEnv } from "./context.ts";
import { adoptReason } from "./events.ts";
import { anyBody, jsonBody } from "./middleware/json-body.ts";

/**
 * The org's identity endpoints, served by the auth Worker: the OAuth 2.1 authorization
 * server and its metadata (`/.well-known/*`, `/oauth/*`), the SSO callback (`/sso/*`) and
 * SCIM provisioning (`/scim/v2/*`). Each authenticates its own way (PKCE, IdP, SCIM
 * token), so the router only resolves the org and passes the request on.
 */
export const identity = new Hono<RouterEnv>();

const resolveOrg = (operation: string) =>
  createMiddleware<RouterEnv>(async (c, next) => {
    c.set("operation", operation);
    const target = c.get("target");
    const org = target?.kind === "org" ? await c.env.AUTH.resolveOrg(target.slug) : null;
    if (!org) return problem("unknown_org", { detail: "No org answers at this host", requestId: c.get("requestId") });
    c.set("org", org);
    await next();
  });

identity.all("/scim/v2/*", resolveOrg("scim"), jsonBody, (c) => c.env.AUTH.scim(c.req.raw, { requestId: c.get("requestId"), org: c.get("org")! }));

for (const [prefix, operation] of [["/.well-known/*", "oauth.metadata"], ["/oauth/*", "oauth"], ["/sso/*", "sso"]] as const) {
  identity.all(prefix, resolveOrg(operation), anyBody, async (c) =>
    adoptReason(c, await c.env.AUTH.identity(c.req.raw, { requestId: c.get("requestId"), org: c.get("org")! })),
  );
}
