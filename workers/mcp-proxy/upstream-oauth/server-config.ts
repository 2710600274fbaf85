import { and, eq } from "drizzle-orm";
import { database, schema } from "../../../shared/db/index.ts";
import { masterKey, secretBox, type SecretBox } from "../../../shared/secret-box.ts";
import type { Env } from "../env.ts";
import { clientSecretPurpose, type OAuthClient } from "./client.ts";

const { mcpServers, mcpServerOAuth } = schema;
export type OAuthRow = typeof mcpServerOAuth.$inferSelect;

export async function openClient(box: SecretBox, row: OAuthRow): Promise<OAuthClient> {
  return {
    clientId: row.clientId,
    clientSecret: row.sealedClientSecret ? await box.open(row.sealedClientSecret, clientSecretPurpose(row.serverId)) : null,
    scopes: row.scopes,
    authorizationEndpoint: row.authorizationEndpoint,
    tokenEndpoint: row.tokenEndpoint,
  };
}

/** One server with its OAuth client, read fresh (the connect flow runs outside any authenticated request's config version). */
export async function oauthServer(env: Env, orgId: string, serverId: string) {
  const db = database(env.DB);
  const [found] = await db.select().from(mcpServers)
    .innerJoin(mcpServerOAuth, eq(mcpServerOAuth.serverId, mcpServers.id))
    .where(and(eq(mcpServers.orgId, orgId), eq(mcpServerOAuth.orgId, orgId), eq(mcpServers.id, serverId), eq(mcpServers.authMode, "oauth")));
  if (!found || !found.mcp_servers.enabled) return null;
  const box = secretBox(db, await masterKey(env.MASTER_KEY), orgId);
  return { id: found.mcp_servers.id, name: found.mcp_servers.name, url: found.mcp_servers.url, oauth: await openClient(box, found.mcp_server_oauth) };
}
