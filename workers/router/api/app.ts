import { apiApp, orgAdminApp, orgScopeOf } from "../../../shared/api/app.ts";
import type { Env } from "../env.ts";

export const newApp = () => apiApp<Env>();
export type RouterApiApp = ReturnType<typeof newApp>;
export const adminApp = () => orgAdminApp<Env>();
export const scopeOf = orgScopeOf<Env>;
