import { apiApp, bumpConfigVersionOnWrite, orgOf } from "../../../shared/api/app.ts";
import { database, orgScope } from "../../../shared/db/index.ts";
import type { ApiContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";

export const newApp = () => apiApp<Env>();
export type GuardrailApiApp = ReturnType<typeof newApp>;

export function scopeOf(c: { env: { env: Env; context: ApiContext } }) {
  return orgScope(database(c.env.env.DB), orgOf(c.env.context).id);
}

/** The admin resources this Worker owns, at `/api/v1`; writes bump the org's config version. */
export function adminApp() {
  const app = newApp().basePath("/api/v1");
  app.use(async (c, next) => {
    // A scan and a test alert are POSTs that change no configuration.
    if (c.req.path.endsWith("/guardrails/scan") || /\/alert-destinations\/[^/]+\/test$/.test(c.req.path)) return next();
    return bumpConfigVersionOnWrite<Env>()(c, next);
  });
  return app;
}
