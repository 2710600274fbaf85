import { z } from "zod";

export const ROLES = ["owner", "admin", "auditor"] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const ClientSchema = z.object({ name: z.string(), version: z.string().optional() });

/** The OAuth client an access token was issued to: its client id and the name it registered or published. */
export const OAuthClientSchema = z.object({ id: z.string(), name: z.string() });

/**
 * Who is calling, as every Worker sees it: the result of `AUTH.authenticate()` for any
 * credential. `roles` are admin roles (empty for an agent's API key). For an OAuth access
 * token (`oauth`) the user signed in through the org's IdP, `credential_id` is the grant
 * and `oauth_client` the client it was issued to; `client` is always what the User-Agent says.
 */
export const PrincipalSchema = z.object({
  kind: z.enum(["api_key", "admin_token", "operator", "oauth"]),
  org_id: z.string().nullable(),
  org_slug: z.string().nullable(),
  credential_id: z.string().nullable(),
  user_id: z.string().nullable(),
  email: z.string().nullable(),
  teams: z.array(z.object({ id: z.string(), name: z.string() })),
  roles: z.array(RoleSchema),
  client: ClientSchema,
  oauth_client: OAuthClientSchema.optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const OrgSchema = z.object({ id: z.string(), slug: z.string(), name: z.string() });
export type Org = z.infer<typeof OrgSchema>;
