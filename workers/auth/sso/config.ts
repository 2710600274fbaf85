import { eq } from "drizzle-orm";
import { z } from "zod";
import { schema, type Db } from "../../../shared/db/index.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";

/** The purpose the IdP client secret is sealed under: a sealed value opens only for this. */
export const CLIENT_SECRET_PURPOSE = "idp-client-secret";

export const DEFAULT_CLAIMS = { email: "email", name: "name", groups: "groups" };

/** The JSON columns as stored; read back through zod so a bad row fails loudly, not oddly. */
export const ClaimMapping = z.object({ email: z.string().min(1), name: z.string().min(1), groups: z.string().min(1) });
export const GroupTeams = z.record(z.string(), z.string());
const Scopes = z.array(z.string());

export interface IdpConfig {
  issuer: string;
  clientId: string;
  /** Null for a public client (PKCE only, no secret at the token endpoint). */
  clientSecret: string | null;
  scopes: string[];
  claims: z.infer<typeof ClaimMapping>;
  groupTeams: Record<string, string>;
  autoCreateTeams: boolean;
  enabled: boolean;
}

/** The org's IdP with its client secret opened; read at sign-in only, never on the hot path. */
export async function loadIdpConfig(db: Db, masterKeySecret: string | undefined, orgId: string): Promise<IdpConfig | null> {
  const row = await db.query.idpConfigs.findFirst({ where: eq(schema.idpConfigs.orgId, orgId) });
  if (!row) return null;
  const clientSecret = row.sealedClientSecret
    ? await secretBox(db, await masterKey(masterKeySecret), orgId).open(row.sealedClientSecret, CLIENT_SECRET_PURPOSE)
    : null;
  return {
    issuer: row.issuer,
    clientId: row.clientId,
    clientSecret,
    scopes: Scopes.parse(row.scopes),
    claims: ClaimMapping.parse({ ...DEFAULT_CLAIMS, ...row.claims }),
    groupTeams: GroupTeams.parse(row.groupTeams),
    autoCreateTeams: row.autoCreateTeams,
    enabled: row.enabled,
  };
}
