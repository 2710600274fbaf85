import { createMiddleware } from "hono/factory";
import { ulid } from "../../../shared/ids.ts";
import { detectClient } from "../../../shared/clients.ts";
import { apiActivityEvent } from "../../../shared/events.ts";
import type { RouterEnv } from "../context.ts";
import { emitEvent } from "../events.ts";

/**
 * Stable reason of an error response, for the event: a problem+json `code`, or for SCIM
 * errors (RFC 7644 §3.12) the `scimType`, else `scim_<status>`. Bodies of successes are not read.
 */
async function reasonOf(response: Response): Promise<string | undefined> {
  const type = response.headers.get("content-type") ?? "";
  const problem = type.includes("problem+json");
  if (response.status < 400 || (!problem && !type.includes("scim+json"))) return undefined;
  try {
    const body: { code?: unknown; scimType?: unknown } = await response.clone().json();
    if (problem) return typeof body.code === "string" ? body.code : undefined;
    return typeof body.scimType === "string" ? body.scimType : `scim_${response.status}`;
  } catch {
    return undefined;
  }
}

/**
 * Gives every request an id, and after it is answered emits exactly one event for it,
 * off the critical path (waitUntil).
 */
export const recordRequest = createMiddleware<RouterEnv>(async (c, next) => {
  const startedAt = Date.now();
  const started = performance.now();
  const requestId = ulid();
  const userAgent = c.req.header("user-agent") ?? null;
  c.set("requestId", requestId);
  c.set("client", detectClient(userAgent));
  c.set("operation", "unrouted");
  c.set("org", null);
  c.set("principal", null);
  c.set("configVersion", 0);
  c.set("reason", undefined);
  c.set("outcome", undefined);

  await next();

  c.res.headers.set("x-request-id", requestId);
  const url = c.get("url");
  const response = c.res;
  const record = {
    requestId,
    startedAt,
    method: c.req.method,
    host: url.host,
    path: url.pathname,
    status: response.status,
    userAgent,
    client: c.get("client"),
    sourceIp: c.req.header("cf-connecting-ip") ?? null,
    operation: c.get("operation"),
    org: c.get("org"),
    principal: c.get("principal"),
  };
  c.executionCtx.waitUntil(
    (async () => {
      // A gateway call's event waits for its stream to end, so it carries usage, cost and total latency.
      const outcome = await c.get("outcome");
      const reason = outcome?.reason ?? c.get("reason") ?? (await reasonOf(response));
      const durationMs = (outcome?.endedAt ?? performance.now()) - started;
      const attributes = outcome ? { attributes: outcome.attributes } : {};
      const policy = outcome?.policy ? { policy: outcome.policy() } : {};
      await emitEvent(c.env, apiActivityEvent({ ...record, durationMs, ...attributes, ...policy, ...(reason ? { reason } : {}) }));
    })(),
  );
});
