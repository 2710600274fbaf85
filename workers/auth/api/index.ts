import { bumpConfigVersionOnWrite } from "../../../shared/api/app.ts";
import { ProblemError } from "../../../shared/problem.ts";
import type { Env } from "../env.ts";
import { newApp } from "./app.ts";
import { registerAdminTokens, registerApiKeys } from "./credentials.ts";
import { registerIdentity } from "./identity.ts";
import { registerLimits } from "./limits.ts";
import { registerOrgs } from "./orgs.ts";
import { registerPolicies } from "./policies.ts";
import { registerScimToken } from "./scim-token.ts";
import { registerTeams } from "./teams.ts";
import { registerUsers } from "./users.ts";

/** The org admin resources this Worker owns, at `/api/v1`. */
const admin = newApp().basePath("/api/v1");
admin.use(bumpConfigVersionOnWrite<Env>());
registerUsers(admin);
registerTeams(admin);
registerApiKeys(admin);
registerAdminTokens(admin);
registerIdentity(admin);
registerScimToken(admin);
registerPolicies(admin);
registerLimits(admin);

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
