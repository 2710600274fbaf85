import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { orgs } from "../schema.ts";
import { mcpServers } from "./mcp.ts";

/** Per-user upstream OAuth for MCP servers with `auth_mode: oauth` (mcp-proxy Worker). Times are epoch ms. */

/** The server's OAuth client at the upstream's authorization server. Endpoints left null are discovered (RFC 9728 → RFC 8414). */
export const mcpServerOAuth = sqliteTable("mcp_server_oauth", {
  serverId: text("server_id").primaryKey().references(() => mcpServers.id, { onDelete: "cascade" }),
  orgId: text("org_id").notNull().references(() => orgs.id),
  clientId: text("client_id").notNull(),
  /** Sealed (shared/secret-box.ts); null for a public client (PKCE only). */
  sealedClientSecret: text("sealed_client_secret"),
  clientSecretHint: text("client_secret_hint"),
  scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
  authorizationEndpoint: text("authorization_endpoint"),
  tokenEndpoint: text("token_endpoint"),
});

/** A pending authorization: single use, short-lived; the state is stored as its SHA-256, the PKCE verifier sealed. */
export const mcpOAuthStates = sqliteTable(
  "mcp_oauth_states",
  {
    stateHash: text("state_hash").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    serverId: text("server_id").notNull().references(() => mcpServers.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    sealedVerifier: text("sealed_verifier").notNull(),
    tokenEndpoint: text("token_endpoint").notNull(),
    /** The discovered issuer, to check the callback's `iss` (RFC 9207); null with explicit endpoints. */
    issuer: text("issuer"),
    /** RFC 7009 endpoint, kept with the tokens so a revocation reaches the upstream too. */
    revocationEndpoint: text("revocation_endpoint"),
    redirectUri: text("redirect_uri").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("mcp_oauth_states_expiry").on(t.expiresAt)],
);

/** A user's upstream tokens for one server, sealed: the vault. */
export const mcpOAuthTokens = sqliteTable(
  "mcp_oauth_tokens",
  {
    orgId: text("org_id").notNull().references(() => orgs.id),
    serverId: text("server_id").notNull().references(() => mcpServers.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    sealedAccessToken: text("sealed_access_token").notNull(),
    sealedRefreshToken: text("sealed_refresh_token"),
    /** When the access token expires (null: the AS did not say). */
    expiresAt: integer("expires_at"),
    scope: text("scope"),
    /** Where it is refreshed (the endpoint it was issued by). */
    tokenEndpoint: text("token_endpoint").notNull(),
    revocationEndpoint: text("revocation_endpoint"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serverId, t.userId] }), index("mcp_oauth_tokens_org_user").on(t.orgId, t.userId)],
);
