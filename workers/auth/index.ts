import { WorkerEntrypoint } from "cloudflare:workers";
import { database } from "../../shared/db/index.ts";
import type { Org } from "../../shared/principal.ts";
import type {
  AdmitInput,
  AdmitResult,
  ApiContext,
  AuthenticateInput,
  AuthorizeManyInput,
  AuthorizeManyResult,
  AuthResult,
  AuthRpc,
  Health,
  OrgRequestContext,
  SettleInput,
} from "../../shared/rpc.ts";
import { api } from "./api/index.ts";
import { verifyAccessToken } from "./oauth/access-token.ts";
import { serveIdentity } from "./oauth/index.ts";
import { serveScim } from "./scim/index.ts";
import { verifyCredential, verifyOperator } from "./credentials.ts";
import type { Env } from "./env.ts";
import { orgState } from "./org-state.ts";
import { activePrepared, engine } from "./policy/index.ts";
import { resolveOrg } from "./orgs.ts";

export { OrgState } from "./org-state.ts";

export class AuthService extends WorkerEntrypoint<Env> implements AuthRpc {
  async health(): Promise<Health> {
    await this.env.DB.prepare("SELECT 1").first();
    return { worker: "auth", ok: true };
  }

  resolveOrg(slug: string): Promise<Org | null> {
    return resolveOrg(database(this.env.DB), slug);
  }

  async authenticate(input: AuthenticateInput): Promise<AuthResult> {
    if (input.host.kind === "operator") {
      if (!input.credential) return { ok: false, org: null, code: "unauthenticated", detail: "Send the operator token as `Authorization: Bearer …`" };
      return verifyOperator(this.env.OPERATOR_TOKEN, input.credential, input.userAgent);
    }
    const db = database(this.env.DB);
    const org = await resolveOrg(db, input.host.slug);
    if (!org) return { ok: false, org: null, code: "unknown_org", detail: `No org answers at ${input.host.slug}` };
    if (!input.credential) {
      return { ok: false, org, code: "unauthenticated", detail: "Send an Airlock API key or admin token as `Authorization: Bearer …`" };
    }
    const version = await orgState(this.env, org.id).configVersion();
    // Airlock's own credentials carry their prefix; any other bearer is an OAuth access
    // token, valid only at the protected resource it was issued for.
    if (input.credential.startsWith("alk_") || !input.resource) return verifyCredential(db, org, version, input.credential, input.userAgent);
    return verifyAccessToken(db, this.env, org, version, input.credential, input.resource, input.userAgent);
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    const auth = await this.authenticate(input);
    if (!auth.ok) return auth;
    if (!auth.org) return { ok: false, org: null, code: "forbidden", detail: "The operator is not subject to an org's policies; admit() is for org hosts" };
    const set = await activePrepared(auth.org.id, auth.configVersion);
    const decision = engine.decide(set, { ...input.facts, principal: auth.principal, action: input.action, resource: input.resource_entity });
    return { ...auth, decision: { ...decision, policy_version: set.version, mode: "enforce" } };
  }

  async authorizeMany(input: AuthorizeManyInput): Promise<AuthorizeManyResult> {
    if (input.principal.org_id !== input.org_id) throw new Error("authorizeMany: the principal belongs to another org");
    const set = await activePrepared(input.org_id, input.configVersion);
    const decisions = engine.decideMany(set, { ...input.facts, principal: input.principal, action: input.action, resources: input.resources });
    return { policy_version: set.version, mode: "enforce", decisions };
  }

  // Replaced by the limits and budgets work (issue 6): until then nothing is reserved.
  async settle(_input: SettleInput): Promise<void> {}

  api(request: Request, context: ApiContext): Promise<Response> {
    return Promise.resolve(api.fetch(request, { env: this.env, context }, this.ctx));
  }

  scim(request: Request, context: OrgRequestContext): Promise<Response> {
    return serveScim(request, context, this.env);
  }

  identity(request: Request, context: OrgRequestContext): Promise<Response> {
    return serveIdentity(request, context, this.env, this.ctx);
  }
}

/** Not public: the router is the only entry. A direct hit says where to go. */
export default {
  fetch: () => new Response("airlock-auth is reached through airlock-router", { status: 404 }),
} satisfies ExportedHandler<Env>;
