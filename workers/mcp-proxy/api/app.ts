import { apiApp, bumpConfigVersionOnWrite, orgOf } from "../../../shared/api/app.ts";
import { database, orgScope } from "../../../shared/db/index.ts";
import type { ApiContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";

export const newApp = () => apiApp<Env>();
export type McpApiApp = ReturnType<typeof newApp>;

export function scopeOf(c: { env: { env: Env; context: ApiContext } }) {
  return orgScope(database(c.env.env.DB), orgOf(c.env.context).id);
}

/** The admin resources this Worker owns, at `/api/v1`; every write bumps the org's config version. */
export function adminApp() {
  const app = newApp().basePath("/api/v1");
  app.use(bumpConfigVersionOnWrite<Env>());
  return app;
}
