import { createMiddleware } from "hono/factory";
import { problem } from "../../shared/problem.ts";
import type { RouterEnv } from "./context.ts";

/** `Authorization: Bearer <token>`, the header every admin client and SDK sends. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : "";
}

/** One `AUTH.authenticate()` RPC per request: resolves the org and the principal together. */
export const authenticate = createMiddleware<RouterEnv>(async (c, next) => {
  const target = c.get("target")!;
  const credential = bearerToken(c.req.header("authorization"));
  const requestId = c.get("requestId");
  if (credential === "") return problem("invalid_credential", { detail: "The Authorization header must be `Bearer <token>`", requestId });

  const result = await c.env.AUTH.authenticate({ host: target, credential, userAgent: c.req.header("user-agent") ?? null });
  c.set("org", result.org);
  if (!result.ok) return problem(result.code, { detail: result.detail, requestId });
  c.set("principal", result.principal);
  c.set("configVersion", result.configVersion);
  return next();
});
