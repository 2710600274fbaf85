import { createMiddleware } from "hono/factory";
import { ulid } from "ulid";
import { detectClient } from "../../../shared/clients.ts";
import { apiActivityEvent } from "../../../shared/events.ts";
import type { RouterEnv } from "../context.ts";
import { emitEvent } from "../events.ts";

/** Stable problem code of an error response, for the event; bodies of successes are not read. */
async function reasonOf(response: Response): Promise<string | undefined> {
  if (response.status < 400 || !response.headers.get("content-type")?.includes("problem+json")) return undefined;
  try {
    const body: { code?: unknown } = await response.clone().json();
    return typeof body.code === "string" ? body.code : undefined;
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

  await next();

  c.res.headers.set("x-request-id", requestId);
  const url = new URL(c.req.url);
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
      const reason = c.get("reason") ?? (await reasonOf(response));
      const durationMs = performance.now() - started;
      await emitEvent(c.env, apiActivityEvent({ ...record, durationMs, ...(reason ? { reason } : {}) }));
    })(),
  );
});
