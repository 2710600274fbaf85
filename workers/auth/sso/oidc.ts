import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import * as oauth from "oauth4webapi";
import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import type { IdpConfig } from "./config.ts";

/**
 * Sign-in through the org's OpenID Provider: authorization code with PKCE (S256) and a
 * nonce. oauth4webapi does the protocol (discovery with its issuer check, the RFC 9207
 * `iss` check on the callback, the token request, the ID token's claim checks: iss, aud,
 * azp, exp, iat, nonce); jose verifies the ID token's signature against the IdP's JWKS
 * with the issuer, audience and algorithms pinned. Works on Workers: fetch and WebCrypto only.
 */

/** A refusal of the sign-in: `reason` is the event's code, the message says why in words (never a token or secret). */
export class SsoError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** What Airlock keeps of an ID token: the IdP's subject and the mapped claims. */
export interface IdpIdentity {
  subject: string;
  email: string;
  name: string | null;
  groups: string[];
}

interface Provider {
  as: oauth.AuthorizationServer;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

const TIMEOUT_MS = 10_000;
/** Discovery documents change rarely; keys rotate, and jose refetches the JWKS on an unknown `kid`. */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const providers = new Map<string, { until: number; provider: Promise<Provider> }>();

/** Asymmetric algorithms only: an ID token "signed" with the client secret (HS*) or `none` is refused. */
const ALLOWED_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

const requestOptions = (allowPrivate: boolean) => ({
  [oauth.allowInsecureRequests]: allowPrivate,
  signal: () => AbortSignal.timeout(TIMEOUT_MS),
});

function checkUrl(url: string | undefined, what: string, allowPrivate: boolean): URL {
  if (!url) throw new SsoError("sso_idp_misconfigured", `The identity provider's discovery document has no ${what}`);
  try {
    return assertPublicUrl(url, { allowPrivate });
  } catch (error) {
    if (error instanceof UnsafeUrlError) throw new SsoError("sso_idp_misconfigured", `The identity provider's ${what} ${error.message}`);
    throw error;
  }
}

async function discover(issuer: string, allowPrivate: boolean): Promise<Provider> {
  const issuerUrl = checkUrl(issuer, "issuer", allowPrivate);
  let as: oauth.AuthorizationServer;
  try {
    as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { algorithm: "oidc", ...requestOptions(allowPrivate) }));
  } catch (error) {
    throw new SsoError("sso_idp_unavailable", `The identity provider's discovery document could not be used: ${describe(error)}`);
  }
  checkUrl(as.authorization_endpoint, "authorization_endpoint", allowPrivate);
  checkUrl(as.token_endpoint, "token_endpoint", allowPrivate);
  const jwksUri = checkUrl(as.jwks_uri, "jwks_uri", allowPrivate);
  return { as, jwks: createRemoteJWKSet(jwksUri, { timeoutDuration: TIMEOUT_MS }) };
}

function provider(issuer: string, allowPrivate: boolean): Promise<Provider> {
  const key = `${allowPrivate}:${issuer}`;
  const hit = providers.get(key);
  if (hit && hit.until > Date.now()) return hit.provider;
  const pending = discover(issuer, allowPrivate);
  pending.catch(() => providers.delete(key));
  if (providers.size >= 1_000) providers.clear();
  providers.set(key, { until: Date.now() + DISCOVERY_TTL_MS, provider: pending });
  return pending;
}

export interface PendingSignIn {
  /** PKCE code verifier for the IdP's token endpoint; kept server-side with the pending authorization. */
  verifier: string;
  nonce: string;
}

export function newPendingSignIn(): PendingSignIn {
  return { verifier: oauth.generateRandomCodeVerifier(), nonce: oauth.generateRandomNonce() };
}

/** The IdP authorization URL for this sign-in: code flow, PKCE S256, nonce, and the state the OAuth library issued. */
export async function idpAuthorizationUrl(idp: IdpConfig, allowPrivate: boolean, redirectUri: string, state: string, pending: PendingSignIn): Promise<string> {
  const { as } = await provider(idp.issuer, allowPrivate);
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", idp.clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("scope", idp.scopes.join(" "));
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", pending.nonce);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(pending.verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.href;
}

function clientAuth(as: oauth.AuthorizationServer, secret: string | null): oauth.ClientAuth {
  if (secret === null) return oauth.None();
  const methods = as.token_endpoint_auth_methods_supported;
  // client_secret_basic is the default when the IdP does not say (OIDC Discovery §3).
  return !methods || methods.includes("client_secret_basic") ? oauth.ClientSecretBasic(secret) : oauth.ClientSecretPost(secret);
}

/**
 * Completes the sign-in at the IdP's callback: checks the callback (error, `iss`), redeems
 * the code with the PKCE verifier, and verifies the ID token. Throws SsoError saying which
 * check failed.
 */
export async function completeSignIn(
  idp: IdpConfig,
  allowPrivate: boolean,
  callback: URL,
  redirectUri: string,
  pending: PendingSignIn,
): Promise<IdpIdentity> {
  const { as, jwks } = await provider(idp.issuer, allowPrivate);
  const client: oauth.Client = { client_id: idp.clientId };
  let params: URLSearchParams;
  try {
    // The OAuth library already matched `state` to this browser's pending authorization.
    params = oauth.validateAuthResponse(as, client, callback.searchParams, oauth.skipStateCheck);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      throw new SsoError("sso_idp_error", `The identity provider refused the sign-in (${error.error})`);
    }
    throw new SsoError("sso_callback_invalid", `The identity provider's response is not valid: ${describe(error)}`);
  }

  let result: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth(as, idp.clientSecret), params, redirectUri, pending.verifier, requestOptions(allowPrivate));
    result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true });
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      throw new SsoError("sso_code_exchange_failed", `The identity provider refused the code exchange (${error.error})`);
    }
    if (error instanceof oauth.OperationProcessingError && isIdTokenCheck(error)) {
      throw new SsoError("sso_id_token_invalid", `The identity provider's ID token failed verification: ${describe(error)}`);
    }
    throw new SsoError("sso_code_exchange_failed", `The code exchange with the identity provider failed: ${describe(error)}`);
  }

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(result.id_token!, jwks, {
      issuer: as.issuer,
      audience: idp.clientId,
      algorithms: ALLOWED_ALGS,
      clockTolerance: 30,
    }));
  } catch (error) {
    throw new SsoError("sso_id_token_invalid", `The identity provider's ID token failed verification: ${describe(error)}`);
  }
  return identityOf(claims, idp);
}

const isIdTokenCheck = (error: oauth.OperationProcessingError) =>
  error.code === oauth.JWT_CLAIM_COMPARISON || error.code === oauth.JWT_TIMESTAMP_CHECK || error.code === oauth.PARSE_ERROR || error.code === oauth.UNSUPPORTED_OPERATION;

/** Which check failed, in words; never the token or a claim's value. */
function describe(error: unknown): string {
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "the signature does not verify with the provider's keys";
  if (error instanceof joseErrors.JWTExpired) return "it has expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim "${error.claim}" is not what was expected`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "it is signed with an algorithm that is not allowed";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "no key of the provider matches its signature";
  if (error instanceof oauth.OperationProcessingError) {
    const claim = (error.cause as { claim?: unknown } | undefined)?.claim;
    if (error.code === oauth.JWT_TIMESTAMP_CHECK && claim === "exp") return "it has expired";
    if (typeof claim === "string") return `claim "${claim}" is not what was expected`;
  }
  return error instanceof Error ? error.message : "unknown error";
}

function identityOf(claims: JWTPayload, idp: IdpConfig): IdpIdentity {
  if (typeof claims.sub !== "string" || claims.sub === "") throw new SsoError("sso_claim_missing", "The ID token has no subject");
  const email = claims[idp.claims.email];
  if (typeof email !== "string" || !/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new SsoError("sso_claim_missing", `The ID token has no email address in claim "${idp.claims.email}"; check the claim mapping and the scopes`);
  }
  if (claims.email_verified === false) throw new SsoError("sso_email_unverified", "The identity provider says this email address is not verified");
  const name = claims[idp.claims.name];
  const groups = claims[idp.claims.groups];
  return {
    subject: claims.sub,
    email: email.toLowerCase(),
    name: typeof name === "string" && name.trim() ? name.trim().slice(0, 200) : null,
    groups: (Array.isArray(groups) ? groups : typeof groups === "string" ? [groups] : []).filter((g): g is string => typeof g === "string" && g !== ""),
  };
}
