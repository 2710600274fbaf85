import { apiApp, bumpConfigVersionOnWrite, orgOf } from "../../../shared/api/app.ts";
import { database, orgScope } from "../../../shared/db/index.ts";
import type { ApiContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";

export const newApp = () => apiApp<Env>();
export type RouterApiApp = ReturnType<typeof newApp>;

/** The org-scoped data access for this request; the only way the gateway's admin handlers reach D1. */
export function scopeOf(c: { env: { env: Env; context: ApiContext } }) {
  return orgScope(database(c.env.env.DB), orgOf(c.env.context).id);
}

/** The router's own admin resources at `/api/v1`; every write bumps the org's config version (the gateway's registry cache key). */
export function adminApp() {
  const app = newApp().basePath("/api/v1");
  app.use(bumpConfigVersionOnWrite<Env>());
  return app;
}
