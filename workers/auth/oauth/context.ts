import type { Db } from "../../../shared/db/index.ts";
import type { Org } from "../../../shared/principal.ts";
import type { Env } from "../env.ts";
import type { OAuthSettings } from "./settings.ts";
import type { OrgOAuthEnv } from "./store.ts";

/** One request to the org's authorization server or SSO endpoints, with what every handler needs. */
export interface IdentityRequest {
  request: Request;
  url: URL;
  /** The org's origin: issuer, and the base of its resources' identifiers. */
  origin: string;
  org: Org;
  env: Env;
  executionCtx: ExecutionContext;
  db: Db;
  version: number;
  settings: OAuthSettings;
  /** The org's slice of the OAuth store, as the library's `env`. */
  oauthEnv: OrgOAuthEnv;
}

export const SSO_CALLBACK_PATH = "/sso/callback";

export const allowPrivateIdp = (env: Env) => env.ALLOW_PRIVATE_IDP === "true";
