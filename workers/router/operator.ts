import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { OPERATOR_API, openApiDocument } from "../../shared/api/index.ts";
import type { Health } from "../../shared/rpc.ts";
import type { RouterEnv } from "./context.ts";
import { authenticate } from "./authenticate.ts";
import { jsonBody } from "./middleware/json-body.ts";

let document: unknown;

/** `https://api.<domain>`: readiness, and the platform operator's org API at `/v1`. */
export const operatorHost = new Hono<RouterEnv>();

/** Readiness of the whole mesh: each Worker answers its own health RPC. */
operatorHost.get("/healthz", async (c) => {
  c.set("operation", "healthz");
  const checks = await Promise.all(
    [c.env.AUTH, c.env.GUARDRAIL, c.env.MCP_PROXY, c.env.METRICS].map((service) =>
      service.health().catch((error: unknown): Health => ({ worker: "unknown", ok: false, detail: String(error) })),
    ),
  );
  checks.push({ worker: "router", ok: true });
  const ok = checks.every((check) => check.ok);
  return c.json({ ok, workers: checks }, ok ? 200 : 503);
});

operatorHost.get("/v1/openapi.json", (c) => {
  c.set("operation", "operator.openapi");
  return c.json(
    (document ??= openApiDocument(OPERATOR_API, {
      title: "Airlock platform operator API",
      description: "Create orgs and mint their first admin token.",
      serverUrl: `https://api.${c.env.BASE_DOMAIN}/v1`,
    })),
  );
});

const nameOperation = createMiddleware<RouterEnv>(async (c, next) => {
  c.set("operation", `operator.${c.get("url").pathname.split("/")[2] ?? ""}`);
  await next();
});

operatorHost.all("/v1/*", nameOperation, authenticate, jsonBody, (c) =>
  c.env.AUTH.api(c.req.raw, { requestId: c.get("requestId"), org: null, principal: c.get("principal")!, configVersion: 0 }),
);
