import { z } from "zod";
import type { OAuthClient } from "./client.ts";
import { fetchJson } from "./fetch-json.ts";

export const TokenSet = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
});
export type TokenSet = z.infer<typeof TokenSet>;

/** The authorization server refused the grant (`invalid_grant`…): the user must connect again. */
export class GrantRefused extends Error {
  override readonly name = "GrantRefused";
}

/**
 * A token request (authorization_code or refresh_token grant) with the client's credentials
 * (client_secret_post when it has a secret, else public) and the upstream as RFC 8707 resource.
 */
export async function requestTokens(
  tokenEndpoint: string,
  client: OAuthClient,
  resource: string,
  grant: Record<string, string>,
  allowPrivate: boolean,
): Promise<TokenSet> {
  const form = new URLSearchParams({ ...grant, client_id: client.clientId, resource });
  if (client.clientSecret) form.set("client_secret", client.clientSecret);
  const { status, body } = await fetchJson(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: form.toString(),
  }, allowPrivate);
  const parsed = status === 200 ? TokenSet.safeParse(body) : null;
  if (!parsed?.success) {
    const code = (body as { error?: unknown } | null)?.error;
    throw new GrantRefused(`the token endpoint answered HTTP ${status}${typeof code === "string" ? ` (${code.slice(0, 64)})` : ""}`);
  }
  if (parsed.data.token_type && parsed.data.token_type.toLowerCase() !== "bearer") throw new GrantRefused(`unsupported token type ${parsed.data.token_type.slice(0, 32)}`);
  return parsed.data;
}

/** RFC 7009: asks the authorization server to revoke a token; throws when it does not answer 200. */
export async function revokeUpstream(endpoint: string, client: OAuthClient, token: string, hint: string, allowPrivate: boolean): Promise<void> {
  const form = new URLSearchParams({ token, token_type_hint: hint, client_id: client.clientId });
  if (client.clientSecret) form.set("client_secret", client.clientSecret);
  const { status } = await fetchJson(endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() }, allowPrivate);
  if (status !== 200) throw new Error(`the revocation endpoint answered HTTP ${status}`);
}
