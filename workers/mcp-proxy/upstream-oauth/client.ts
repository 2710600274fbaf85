/** A server's OAuth client at its upstream's authorization server, as the hot path holds it (secret opened). */
export interface OAuthClient {
  clientId: string;
  /** Null for a public client: PKCE alone. */
  clientSecret: string | null;
  scopes: string[];
  /** Explicit endpoints; null ones are discovered from the upstream (RFC 9728 → RFC 8414). */
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
}

export const clientSecretPurpose = (serverId: string) => `mcp-oauth-client:${serverId}`;
export const tokenPurpose = (serverId: string, userId: string, kind: "access" | "refresh") => `mcp-oauth-token:${serverId}:${userId}:${kind}`;
export const verifierPurpose = (stateHash: string) => `mcp-oauth-verifier:${stateHash}`;

/** Something about the upstream's authorization setup keeps the user from connecting; the message is safe to show. */
export class OAuthSetupError extends Error {
  override readonly name = "OAuthSetupError";
}
