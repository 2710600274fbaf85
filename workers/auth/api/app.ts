import { apiApp } from "../../../shared/api/app.ts";
import { database, orgScope } from "../../../shared/db/index.ts";
import { orgOf } from "../../../shared/api/app.ts";
import type { Env } from "../env.ts";

export const newApp = () => apiApp<Env>();
export type AuthApiApp = ReturnType<typeof newApp>;

/** The org-scoped data access for this request; the only way admin handlers reach D1. */
export function scopeOf(c: { env: { env: Env; context: Parameters<typeof orgOf>[0] } }) {
  return orgScope(database(c.env.env.DB), orgOf(c.env.context).id);
}
