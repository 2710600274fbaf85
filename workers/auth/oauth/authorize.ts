import { AuthorizationError, CimdFetchError, authorizationErrorRedirect } from "@cloudflare/workers-oauth-provider";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { sha256Hex } from "../../../shared/crypto.ts";
import { orgScope, schema } from "../../../shared/db/index.ts";
import { resourceOfIdentifier } from "../../../shared/protected-resource.ts";
import { REASON_HEADER } from "../../../shared/rpc.ts";
import { loadIdpConfig } from "../sso/config.ts";
import { idpAuthorizationUrl, newPendingSignIn, SsoError } from "../sso/oidc.ts";
import { allowPrivateIdp, SSO_CALLBACK_PATH, type IdentityRequest } from "./context.ts";
import { errorPage, redirect } from "./pages.ts";
import { authorizationServer, grantedScopes, namespaceRoots } from "./server.ts";

/**
 * The authorization endpoint. The library validates the request (client, exact redirect
 * URI, PKCE S256, response type, the RFC 8707 resource); the user then signs in at the
 * org's IdP (sso/callback.ts), sees the consent page, and only an approval here completes
 * the authorization with their Airlock user id.
 */
export async function authorize(ctx: IdentityRequest): Promise<Response> {
  const requested = ctx.url.searchParams.getAll("resource");
  const resource = requested.length === 1 ? resourceOfIdentifier(ctx.origin, requested[0]!) : null;
  const server = authorizationServer(ctx.origin, resource ? [resource.id] : namespaceRoots(ctx.origin), ctx.settings);
  const oauth = server.getOAuthApi(ctx.oauthEnv);

  const authRequest = await oauth.parseAuthRequest(ctx.request);
  // Only reachable when the request named a namespace root itself, which is no resource.
  if (!resource) return redirect(authorizationErrorRedirect(authRequest, "invalid_target", "Name one MCP server or model provider of this org as the resource"), undefined, "invalid_target");

  const idp = await loadIdpConfig(ctx.db, ctx.env.MASTER_KEY, ctx.org.id);
  if (!idp?.enabled) {
    return errorPage(403, "sso_not_configured", "Single sign-on is not set up",
      `${ctx.org.name} has no identity provider enabled for Airlock yet. An admin sets it up at /api/v1/identity-provider.`);
  }
  const pending = newPendingSignIn();
  // The library keeps the validated request and our PKCE verifier and nonce server-side (KV,
  // encrypted, ten minutes, single use) under the `state` it returns, bound to this browser by a cookie.
  const { state, headers } = await oauth.beginUpstream(authRequest, { data: pending });
  let location: string;
  try {
    location = await idpAuthorizationUrl(idp, allowPrivateIdp(ctx.env), ctx.origin + SSO_CALLBACK_PATH, state, pending);
  } catch (error) {
    if (!(error instanceof SsoError)) throw error;
    return errorPage(502, error.reason, "The identity provider cannot be reached", error.message);
  }
  return redirect(location, headers);
}

/** Binds the user who signed in to the consent page they were shown (by the page's single-use handle). */
const ConsentBinding = z.object({ user_id: z.string(), client_name: z.string() });
const bindingKey = async (handle: string) => `sso-consent:${await sha256Hex(handle)}`;

export async function bindConsent(ctx: IdentityRequest, handle: string, binding: z.infer<typeof ConsentBinding>): Promise<void> {
  await ctx.oauthEnv.OAUTH_KV.put(await bindingKey(handle), JSON.stringify(binding), { expirationTtl: 600 });
}

/** The consent form's answer. Allow completes the authorization; Deny answers the client `access_denied`. */
export async function decideConsent(ctx: IdentityRequest): Promise<Response> {
  const form = await ctx.request.formData();
  const handle = form.get("handle");
  const decision = form.get("decision");
  if (typeof handle !== "string" || handle === "" || (decision !== "approve" && decision !== "deny")) {
    return errorPage(400, "invalid_request", "This form is not valid", "Start signing in again from your app.");
  }
  const oauth = authorizationServer(ctx.origin, namespaceRoots(ctx.origin), ctx.settings).getOAuthApi(ctx.oauthEnv);
  // Checks the browser's binding cookie (a forged cross-site post has the handle but not the cookie) and consumes the handle.
  if (decision === "deny") {
    const denied = await oauth.denyConsent(ctx.request, handle, { description: "The user declined" });
    await ctx.oauthEnv.OAUTH_KV.delete(await bindingKey(handle));
    denied.headers.set(REASON_HEADER, "consent_denied");
    return new Response(null, { status: 302, headers: denied.headers });
  }
  const approved = await oauth.approveConsent(ctx.request, handle);

  const key = await bindingKey(handle);
  const stored = await ctx.oauthEnv.OAUTH_KV.get(key, "json");
  await ctx.oauthEnv.OAUTH_KV.delete(key);
  const binding = ConsentBinding.safeParse(stored);
  const resource = approved.request.resource ? resourceOfIdentifier(ctx.origin, approved.request.resource) : null;
  if (!binding.success || !resource) {
    return errorPage(400, "consent_expired", "This page has expired", "Start signing in again from your app.");
  }
  const scope = orgScope(ctx.db, ctx.org.id);
  const user = await ctx.db.query.users.findFirst({ where: scope.where(schema.users, eq(schema.users.id, binding.data.user_id)) });
  if (!user || user.status !== "active") {
    return redirect(authorizationErrorRedirect(approved.request, "access_denied", "Your Airlock account is deactivated"), approved.headers, "user_deactivated");
  }

  const { redirectTo } = await authorizationServer(ctx.origin, [resource.id], ctx.settings)
    .getOAuthApi(ctx.oauthEnv)
    .completeAuthorization({
      request: approved.request,
      userId: user.id,
      // Stored in the clear beside the grant, for the admin's grant listing.
      metadata: { client_name: binding.data.client_name },
      scope: grantedScopes(approved.request.scope, resource),
      // Encrypted under each token; what a validated access token says about itself.
      props: { org_id: ctx.org.id, user_id: user.id, client_name: binding.data.client_name },
    });
  return redirect(redirectTo, approved.headers);
}

/** The library's refusals: redirect to the client only when it says that is safe, else a page. */
export function authorizationFailure(error: unknown): Response | null {
  if (error instanceof AuthorizationError) {
    if (error.redirectTo) return redirect(error.redirectTo, undefined, error.code);
    return errorPage(400, error.code, "This sign-in request cannot be completed", error.description);
  }
  if (error instanceof CimdFetchError) {
    return errorPage(400, "client_metadata_unavailable", "This app could not be verified", "Its client metadata document could not be fetched or is not valid.");
  }
  return null;
}
