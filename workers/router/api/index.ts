import type { ApiContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";
import { adminApp, newApp } from "./app.ts";
import { registerModels } from "./models.ts";
import { registerProviders } from "./providers.ts";

const admin = adminApp();
registerProviders(admin);
registerModels(admin);
const app = newApp();
app.route("/", admin);

/** The model gateway's admin resources (providers, credentials, catalog), served in the router itself. */
export function routerApi(request: Request, context: ApiContext, env: Env, ctx: Parameters<typeof app.fetch>[2]): Promise<Response> {
  return Promise.resolve(app.fetch(request, { env, context }, ctx));
}
