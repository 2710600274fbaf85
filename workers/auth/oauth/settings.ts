import { eq } from "drizzle-orm";
import { schema, type Db } from "../../../shared/db/index.ts";

/** An org's authorization-server options (`oauth_settings`); no row means these defaults. */
export interface OAuthSettings {
  /** RFC 7591 registration at `/oauth/register`: what most MCP clients use today. */
  dynamicRegistration: boolean;
  /** Client ID Metadata Documents: an https URL as `client_id`, its document fetched and checked. */
  clientMetadataDocuments: boolean;
  accessTokenTtlSeconds: number;
}

export const DEFAULT_OAUTH_SETTINGS: OAuthSettings = {
  dynamicRegistration: true,
  clientMetadataDocuments: true,
  accessTokenTtlSeconds: 3600,
};

/** Per isolate, by the org's config version (every admin write bumps it). */
const cache = new Map<string, { version: number; settings: OAuthSettings }>();

export async function oauthSettings(db: Db, orgId: string, version: number): Promise<OAuthSettings> {
  const hit = cache.get(orgId);
  if (hit?.version === version) return hit.settings;
  const row = await db.query.oauthSettings.findFirst({ where: eq(schema.oauthSettings.orgId, orgId) });
  const settings = row
    ? { dynamicRegistration: row.dynamicRegistration, clientMetadataDocuments: row.clientMetadataDocuments, accessTokenTtlSeconds: row.accessTokenTtlSeconds }
    : DEFAULT_OAUTH_SETTINGS;
  if (cache.size >= 10_000) cache.clear();
  cache.set(orgId, { version, settings });
  return settings;
}
