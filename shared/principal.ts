import { z } from "zod";

export const ROLES = ["owner", "admin", "auditor"] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const ClientSchema = z.object({ name: z.string(), version: z.string().optional() });

/**
 * Who is calling, as every Worker sees it: the result of `AUTH.authenticate()` for any
 * credential. `roles` are admin roles (empty for an agent's API key).
 */
export const PrincipalSchema = z.object({
  kind: z.enum(["api_key", "admin_token", "operator"]),
  org_id: z.string().nullable(),
  org_slug: z.string().nullable(),
  credential_id: z.string().nullable(),
  user_id: z.string().nullable(),
  email: z.string().nullable(),
  teams: z.array(z.object({ id: z.string(), name: z.string() })),
  roles: z.array(RoleSchema),
  client: ClientSchema,
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const OrgSchema = z.object({ id: z.string(), slug: z.string(), name: z.string() });
export type Org = z.infer<typeof OrgSchema>;
