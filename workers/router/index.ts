import { Hono } from "hono";
import { problem } from "../../shared/problem.ts";
import { adminApi } from "./admin.ts";
import type { RouterEnv } from "./context.ts";
import type { Env } from "./env.ts";
import { hostTarget } from "./host.ts";
import { identity } from "./identity.ts";
import { recordRequest } from "./middleware/record.ts";
import { operatorHost } from "./operator.ts";
import { protectedResources } from "./protected.ts";

/**
 * airlock-router: the only public Worker. Routes on the host first (an org's subdomain
 * or the operator's `api.`), then on the path; Hono sees `/<host kind><path>`.
 */
const app = new Hono<RouterEnv>({
  getPath: (request, options) => {
    const url = new URL(request.url);
    return `/${hostTarget(url.host, options?.env?.BASE_DOMAIN ?? "")?.kind ?? "unknown"}${url.pathname}`;
  },
});

app.use(recordRequest);
app.use(async (c, next) => {
  const url = new URL(c.req.url);
  // Airlock is only reached over TLS (Cloudflare terminates it; `npm start` serves https), but a
  // local dev proxy may hand the Worker the URL as http. The public URL is https: OAuth issuers,
  // resource identifiers and metadata URLs are built from it and must be https.
  if (url.protocol === "http:") {
    url.protocol = "https:";
    c.req.raw = new Request(url, c.req.raw);
  }
  c.set("url", url);
  const target = hostTarget(url.host, c.env.BASE_DOMAIN);
  if (!target) return problem("not_found", { detail: `Airlock serves <org>.${c.env.BASE_DOMAIN}`, requestId: c.get("requestId") });
  c.set("target", target);
  return next();
});

app.route("/org/api/v1", adminApi);
// A user's browser connecting an upstream MCP account (per-user OAuth): no Airlock credential, the gateway checks its own ticket and state.
app.get("/org/mcp-connect/*", (c) => {
  c.set("operation", "mcp.connect");
  const target = c.get("target");
  return c.env.MCP_PROXY.connectAccount(c.req.raw, { requestId: c.get("requestId"), orgSlug: target?.kind === "org" ? target.slug : "" });
});
app.route("/org", identity);
app.route("/org", protectedResources);
app.route("/operator", operatorHost);

app.notFound((c) => problem("not_found", { detail: `No route ${c.req.method} ${c.get("url").pathname}`, requestId: c.get("requestId") }));
app.onError((error, c) => {
  console.error(JSON.stringify({ level: "error", worker: "router", request_id: c.get("requestId"), error: error.message }));
  return problem("internal_error", { detail: "Something went wrong on our side; quote the request id to support", requestId: c.get("requestId") });
});

export default app satisfies ExportedHandler<Env>;
