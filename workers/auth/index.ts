import { WorkerEntrypoint } from "cloudflare:workers";
import { database } from "../../shared/db/index.ts";
import type { Org } from "../../shared/principal.ts";
import type { ActivePolicy } from "../../shared/policy-engine/authorize.ts";
import type {
  ApiContext,
  AuthenticateInput,
  AuthorizeManyInput,
  AuthorizeManyResult,
  AuthResult,
  AuthRpc,
  Health,
  OrgRequestContext,
} from "../../shared/rpc.ts";
import { api } from "./api/index.ts";
import { verifyAccessToken } from "./oauth/access-token.ts";
import { serveIdentity } from "./oauth/index.ts";
import { serveScim } from "./scim/index.ts";
import { verifyCredential, verifyOperator } from "./credentials.ts";
import type { Env } from "./env.ts";
import { currentVersion, leaseEnd } from "./limits/version-lease.ts";
import { activePolicySet, authorizeMany } from "./policy/index.ts";
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
    // Never older than a version the caller learned from the OrgState itself (min_config_version).
    const result = await this.#authenticate(input, (orgId) => currentVersion(this.env, orgId, (promise) => this.ctx.waitUntil(promise), input.min_config_version));
    if (!result.ok || !result.org) return result;
    // The answer holds while this isolate's lease on the version it was decided at runs.
    const leased = leaseEnd(result.org.id, result.configVersion);
    const { fresh_until: expiry, ...answer } = result;
    return leased === null ? answer : { ...answer, fresh_until: Math.min(leased, expiry ?? leased) };
  }

  /** authenticate() at the config version `versionOf` gives. Private: not RPC. */
  async #authenticate(input: AuthenticateInput, versionOf: (orgId: string) => Promise<number>): Promise<AuthResult> {
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
    const version = await versionOf(org.id);
    // Airlock's own credentials carry their prefix; any other bearer is an OAuth access
    // token, valid only at the protected resource it was issued for.
    if (input.credential.startsWith("alk_") || !input.resource) return verifyCredential(db, org, version, input.credential, input.userAgent);
    return verifyAccessToken(db, this.env, org, version, input.credential, input.resource, input.userAgent);
  }

  authorizeMany(input: AuthorizeManyInput): Promise<AuthorizeManyResult> {
    return authorizeMany(this.env, this.ctx, input);
  }

  async activePolicy(orgId: string, configVersion: number): Promise<ActivePolicy> {
    const { version, text, mode, input, compiled } = await activePolicySet(database(this.env.DB), orgId, configVersion);
    return { version, text, mode, input, compiled };
  }

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
