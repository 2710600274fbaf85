import { z } from "zod";
import { OAuthSetupError, type OAuthClient } from "./client.ts";
import { fetchJson } from "./fetch-json.ts";

export interface Endpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** RFC 7009, when the authorization server has one. */
  revocationEndpoint: string | null;
  /** When discovered: the issuer a callback's `iss` must name (RFC 9207). */
  issuer: string | null;
}

const ResourceMetadata = z.object({ resource: z.string().optional(), authorization_servers: z.array(z.string()).min(1) });
const sameResource = (a: string, b: string) => {
  const [x, y] = [new URL(a), new URL(b)];
  return x.origin === y.origin && x.pathname.replace(/\/$/, "") === y.pathname.replace(/\/$/, "");
};
const ServerMetadata = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  revocation_endpoint: z.string().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});

/** RFC 8414 §3 / RFC 9728 §3: the well-known segment goes between the origin and the path. */
const wellKnown = (base: string, name: string) => {
  const url = new URL(base);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return [`${url.origin}/.well-known/${name}${path}`, ...(path ? [`${url.origin}/.well-known/${name}`] : [])];
};

async function firstMetadata<T>(urls: string[], schema: z.ZodType<T>, allowPrivate: boolean): Promise<T | null> {
  for (const url of urls) {
    const { status, body } = await fetchJson(url, { headers: { accept: "application/json" } }, allowPrivate);
    const parsed = status === 200 ? schema.safeParse(body) : null;
    if (parsed?.success) return parsed.data;
  }
  return null;
}

/**
 * The authorization and token endpoints: the server's explicit ones, else discovered from
 * the upstream's protected resource metadata (RFC 9728) and then its authorization
 * server's metadata (RFC 8414, then OpenID discovery). Every URL passes the SSRF check.
 */
export async function endpointsOf(serverUrl: string, client: OAuthClient, allowPrivate: boolean): Promise<Endpoints> {
  if (client.authorizationEndpoint && client.tokenEndpoint) {
    return { authorizationEndpoint: client.authorizationEndpoint, tokenEndpoint: client.tokenEndpoint, revocationEndpoint: null, issuer: null };
  }
  const resource = await firstMetadata(wellKnown(serverUrl, "oauth-protected-resource"), ResourceMetadata, allowPrivate);
  if (!resource) throw new OAuthSetupError("The MCP server publishes no protected resource metadata (RFC 9728); configure its authorization and token endpoints");
  // RFC 9728 §3.3: metadata naming another resource is not this server's and is not used.
  if (resource.resource !== undefined && !URL.canParse(resource.resource)) throw new OAuthSetupError("The MCP server's protected resource metadata names an invalid resource");
  if (resource.resource !== undefined && !sameResource(resource.resource, serverUrl)) throw new OAuthSetupError("The MCP server's protected resource metadata is for another resource");
  const issuer = resource.authorization_servers[0]!;
  const metadata = await firstMetadata(
    [...wellKnown(issuer, "oauth-authorization-server"), ...wellKnown(issuer, "openid-configuration")],
    ServerMetadata,
    allowPrivate,
  );
  if (!metadata) throw new OAuthSetupError(`The authorization server ${issuer} publishes no metadata (RFC 8414)`);
  // RFC 8414 §3.3: metadata for another issuer is not used.
  if (metadata.issuer.replace(/\/$/, "") !== issuer.replace(/\/$/, "")) throw new OAuthSetupError(`The authorization server metadata at ${issuer} names another issuer`);
  if (metadata.code_challenge_methods_supported && !metadata.code_challenge_methods_supported.includes("S256")) {
    throw new OAuthSetupError(`The authorization server ${issuer} does not support PKCE S256`);
  }
  return {
    authorizationEndpoint: client.authorizationEndpoint ?? metadata.authorization_endpoint,
    tokenEndpoint: client.tokenEndpoint ?? metadata.token_endpoint,
    revocationEndpoint: metadata.revocation_endpoint ?? null,
    issuer: metadata.issuer,
  };
}
