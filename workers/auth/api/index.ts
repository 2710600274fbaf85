import { ProblemError } from "../../../shared/problem.ts";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";
import { newApp } from "./app.ts";
import { registerAdminTokens, registerApiKeys } from "./credentials.ts";
import { registerOrgs } from "./orgs.ts";
import { registerTeams } from "./teams.ts";
import { registerUsers } from "./users.ts";

/** The org admin resources this Worker owns, at `/api/v1`. */
const admin = newApp().basePath("/api/v1");
// Any successful write changes what credentials mean: bump the org's config version so
// every isolate's caches reload on their next request.
admin.use(async (c, next) => {
  await next();
  const { org } = c.env.context;
  if (org && c.req.method !== "GET" && c.res.status < 400) await orgState(c.env.env, org.id).bumpConfigVersion();
});
registerUsers(admin);
registerTeams(admin);
registerApiKeys(admin);
registerAdminTokens(admin);

/** The platform operator's resources, at `/v1` on `api.<domain>`. */
const operator = newApp().basePath("/v1");
operator.use(async (c, next) => {
  if (c.env.context.principal.kind !== "operator") throw new ProblemError("forbidden", "Operator credential required");
  await next();
});
registerOrgs(operator);

export const api = newApp();
api.route("/", admin);
api.route("/", operator);
