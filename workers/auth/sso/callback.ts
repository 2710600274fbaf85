import { AuthorizationError, authorizationErrorRedirect } from "@cloudflare/workers-oauth-provider";
import { z } from "zod";
import { orgScope } from "../../../shared/db/index.ts";
import { resourceOfIdentifier } from "../../../shared/protected-resource.ts";
import { bindConsent } from "../oauth/authorize.ts";
import { allowPrivateIdp, SSO_CALLBACK_PATH, type IdentityRequest } from "../oauth/context.ts";
import { consentPage, errorPage, htmlResponse, redirect } from "../oauth/pages.ts";
import { authorizationServer, CONSENT_PATH, grantedScopes, namespaceRoots } from "../oauth/server.ts";
import { orgState } from "../org-state.ts";
import { loadIdpConfig } from "./config.ts";
import { completeSignIn, SsoError } from "./oidc.ts";
import { provisionUser } from "./users.ts";

const Pending = z.object({ verifier: z.string().min(43), nonce: z.string().min(1) });

/**
 * The IdP sends the browser back here. The `state` recovers the pending Airlock
 * authorization (only in the browser that started it, and only once); the sign-in is then
 * completed and checked, the user created or updated with their teams, and the consent
 * page shown. A failed sign-in answers the client `access_denied` (RFC 6749 §4.1.2.1)
 * naming the failed check.
 */
export async function ssoCallback(ctx: IdentityRequest): Promise<Response> {
  const oauth = authorizationServer(ctx.origin, namespaceRoots(ctx.origin), ctx.settings).getOAuthApi(ctx.oauthEnv);
  let resumed;
  try {
    resumed = await oauth.finishUpstream(ctx.request);
  } catch (error) {
    // Unknown, used, expired or from another browser: nothing can safely go back to a client.
    if (error instanceof AuthorizationError) {
      return errorPage(400, "sso_state_invalid", "This sign-in link has expired",
        "It was already used, is older than ten minutes, or was opened in another browser. Start signing in again from your app.");
    }
    throw error;
  }
  const authRequest = resumed.request;
  const refuse = (reason: string, description: string) =>
    redirect(authorizationErrorRedirect(authRequest, "access_denied", description), resumed.headers, reason);

  const pending = Pending.safeParse(resumed.data);
  const resource = authRequest.resource ? resourceOfIdentifier(ctx.origin, authRequest.resource) : null;
  const idp = await loadIdpConfig(ctx.db, ctx.env.MASTER_KEY, ctx.org.id);
  if (!pending.success || !resource) return refuse("sso_state_invalid", "The sign-in could not be resumed");
  if (!idp?.enabled) return refuse("sso_not_configured", "Single sign-on is not enabled for this org");

  let identity;
  try {
    identity = await completeSignIn(idp, allowPrivateIdp(ctx.env), ctx.url, ctx.origin + SSO_CALLBACK_PATH, pending.data);
  } catch (error) {
    if (error instanceof SsoError) return refuse(error.reason, error.message);
    throw error;
  }
  let provisioned;
  try {
    provisioned = await provisionUser(orgScope(ctx.db, ctx.org.id), identity, idp);
  } catch (error) {
    if (error instanceof SsoError) return refuse(error.reason, error.message);
    throw error;
  }
  // New user or changed teams: every isolate's cached principals reload.
  if (provisioned.changed) await orgState(ctx.env, ctx.org.id).bumpConfigVersion();

  const details = await oauth.describeConsent(authRequest);
  const consent = await oauth.beginConsent(authRequest);
  await bindConsent(ctx, consent.handle, { user_id: provisioned.user.id, client_name: details.clientName });
  for (const cookie of resumed.headers.getSetCookie()) consent.headers.append("set-cookie", cookie);
  return htmlResponse(
    consentPage({
      details,
      handle: consent.handle,
      action: CONSENT_PATH,
      org: ctx.org,
      user: provisioned.user,
      resource,
      scopes: grantedScopes(authRequest.scope, resource),
    }),
    consent.headers,
  );
}
