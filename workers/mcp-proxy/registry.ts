import { database, orgScope, schema } from "../../shared/db/index.ts";
import type { VirtualMember } from "../../shared/db/tables/mcp.ts";
import { masterKey, secretBox } from "../../shared/secret-box.ts";
import { orgVersionCache } from "../../shared/org-cache.ts";
import { secretPurpose } from "./api/servers.ts";
import type { Env } from "./env.ts";
import type { OAuthClient } from "./upstream-oauth/client.ts";
import { openClient } from "./upstream-oauth/server-config.ts";

/** An upstream MCP server as the hot path needs it, its static secret already opened. */
export interface UpstreamServer {
  id: string;
  name: string;
  url: string;
  transport: "streamable_http" | "sse";
  tags: string[];
  toolTags: Record<string, string[]>;
  visibleTeamIds: string[];
  enabled: boolean;
  secret: { header: string; value: string } | null;
  /** `auth_mode: oauth`: the server's OAuth client; each user's own token is added per request. */
  oauth: OAuthClient | null;
  /** Set per request for OAuth servers: a fresh credential after the upstream answered 401 (once). */
  reauthorize?: () => Promise<{ header: string; value: string }>;
}

export interface VirtualServer {
  id: string;
  name: string;
  members: VirtualMember[];
  visibleTeamIds: string[];
  tags: string[];
  enabled: boolean;
}

export type PinRow = typeof schema.mcpToolPins.$inferSelect;

/** The org's registry at one config version. `pins` is updated in place as tools are first seen or drift. */
export interface Registry {
  servers: Map<string, UpstreamServer>;
  virtuals: Map<string, VirtualServer>;
  pins: Map<string, PinRow>;
}

export const pinKey = (serverId: string, tool: string) => `${serverId}/${tool}`;

/** Per isolate: org id → its registry at the config version it was loaded for. */
const loadedAt = orgVersionCache<Registry>();

/** The org's registry read from D1 now (admin writes use it to scan what they just registered). */
export async function load(env: Env, orgId: string): Promise<Registry> {
  const db = database(env.DB);
  const scope = orgScope(db, orgId);
  const [servers, virtuals, pins, oauthClients] = await db.batch([
    db.select().from(schema.mcpServers).where(scope.where(schema.mcpServers)),
    db.select().from(schema.mcpVirtualServers).where(scope.where(schema.mcpVirtualServers)),
    db.select().from(schema.mcpToolPins).where(scope.where(schema.mcpToolPins)),
    db.select().from(schema.mcpServerOAuth).where(scope.where(schema.mcpServerOAuth)),
  ]);
  const oauthRows = new Map(oauthClients.map((row) => [row.serverId, row]));
  const sealed = servers.some((s) => s.sealedSecret) || oauthClients.length > 0;
  const box = sealed ? secretBox(db, await masterKey(env.MASTER_KEY), orgId) : null;
  const opened = await Promise.all(
    servers.map(async (row): Promise<UpstreamServer> => ({
      id: row.id, name: row.name, url: row.url, transport: row.transport, tags: row.tags, toolTags: row.toolTags,
      visibleTeamIds: row.visibleTeamIds, enabled: row.enabled,
      secret: row.sealedSecret && row.secretHeader && box ? { header: row.secretHeader, value: await box.open(row.sealedSecret, secretPurpose(row.id)) } : null,
      oauth: row.authMode === "oauth" && oauthRows.has(row.id) ? await openClient(box!, oauthRows.get(row.id)!) : null,
    })),
  );
  return {
    servers: new Map(opened.map((s) => [s.name, s])),
    virtuals: new Map(virtuals.map((v) => [v.name, { id: v.id, name: v.name, members: v.members, visibleTeamIds: v.visibleTeamIds, tags: v.tags, enabled: v.enabled }])),
    pins: new Map(pins.map((p) => [pinKey(p.serverId, p.tool), p])),
  };
}

/** The org's registry, read from D1 only when the config version moved since this isolate last loaded it. */
export function registryOf(env: Env, orgId: string, configVersion: number): Promise<Registry> {
  return loadedAt(orgId, configVersion, () => load(env, orgId));
}

/** Whether the principal's teams may see a server (no teams listed: everyone in the org). */
export function visibleTo(item: { visibleTeamIds: string[]; enabled: boolean }, teamIds: string[]): boolean {
  return item.enabled && (item.visibleTeamIds.length === 0 || item.visibleTeamIds.some((id) => teamIds.includes(id)));
}
