import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, Slug, Timestamp, commonErrors, json, jsonBody, noContent, notFound } from "./common.ts";

const ClaimName = z.string().trim().min(1).max(100);

export const ClaimMapping = z
  .strictObject({
    email: ClaimName.default("email").openapi({ description: "Claim holding the user's email address (Entra ID: often `preferred_username`)" }),
    name: ClaimName.default("name").openapi({ description: "Claim holding the display name" }),
    groups: ClaimName.default("groups").openapi({ description: "Claim holding the user's groups (a string or an array of strings)" }),
  })
  .openapi("ClaimMapping");

const GroupTeams = z
  .record(z.string().min(1).max(256), Slug)
  .refine((map) => Object.keys(map).length <= 500, "at most 500 group mappings")
  .openapi({ description: "IdP group value → Airlock team name. The team is created at sign-in if missing." });

export const IdentityProvider = z
  .object({
    issuer: z.string(),
    client_id: z.string(),
    client_secret_set: z.boolean().openapi({ description: "Whether a client secret is stored; the secret itself is never returned" }),
    scopes: z.array(z.string()),
    claims: z.object({ email: z.string(), name: z.string(), groups: z.string() }),
    group_teams: z.record(z.string(), z.string()),
    auto_create_teams: z.boolean(),
    enabled: z.boolean(),
    redirect_uri: z.string().openapi({ description: "The redirect URI to register at the IdP for Airlock's client" }),
    updated_at: Timestamp,
  })
  .openapi("IdentityProvider");

export const PutIdentityProvider = z
  .strictObject({
    issuer: z.url({ protocol: /^https?$/ }).max(2048).openapi({
      description: "The OpenID Provider's issuer; Airlock reads `<issuer>/.well-known/openid-configuration`. Must be https (http only for loopback in local development).",
      example: "https://acme.okta.com/oauth2/default",
    }),
    client_id: z.string().trim().min(1).max(512),
    client_secret: z.string().min(1).max(4096).nullable().optional().openapi({
      description: "Write-only, stored sealed (AES-GCM). Omit to keep the stored one; null for a public client (PKCE only).",
    }),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "an OAuth scope token"))
      .min(1)
      .max(20)
      .refine((scopes) => scopes.includes("openid"), "must include openid")
      .default(["openid", "email", "profile"]),
    claims: ClaimMapping.default({ email: "email", name: "name", groups: "groups" }),
    group_teams: GroupTeams.default({}),
    auto_create_teams: z.boolean().default(false).openapi({ description: "Make a team for every group that has no mapping (name derived from the group)" }),
    enabled: z.boolean().default(true),
  })
  .openapi("PutIdentityProvider");

export const OAuthSettings = z
  .strictObject({
    dynamic_registration: z.boolean().openapi({ description: "RFC 7591 registration at /oauth/register (what most MCP clients use today)" }),
    client_metadata_documents: z.boolean().openapi({ description: "Client ID Metadata Documents: an https URL as client_id" }),
    access_token_ttl_seconds: z.number().int().min(60).max(86_400),
  })
  .openapi("OAuthSettings");

export const OAuthClient = z
  .object({
    client_id: z.string(),
    client_name: z.string().nullable(),
    client_uri: z.string().nullable(),
    redirect_uris: z.array(z.string()),
    token_endpoint_auth_method: z.string(),
    registered_at: Timestamp.nullable(),
  })
  .openapi("OAuthClient");

export const OAuthGrant = z
  .object({
    id: z.string(),
    client_id: z.string(),
    client_name: z.string().nullable(),
    resource: z.string().nullable().openapi({ description: "The MCP server or model provider the grant's tokens are bound to" }),
    scope: z.array(z.string()),
    created_at: Timestamp,
    expires_at: Timestamp.nullable(),
  })
  .openapi("OAuthGrant");

/** KV cursors are opaque and longer than the API's own. */
const KvPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(4096).optional().openapi({ description: "`next_cursor` from the previous page" }),
});
const kvPage = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });

const ClientParam = z.object({
  id: z.string().min(1).max(2048).openapi({ param: { name: "id", in: "path" }, description: "The client_id (URL-encoded when it is a metadata document URL)" }),
});
const GrantParams = z.object({
  id: IdParam.shape.id,
  grant: z.string().min(1).max(128).openapi({ param: { name: "grant", in: "path" } }),
});

const IDP_NOTES = `Airlock signs users in with the authorization code flow and PKCE (S256), and verifies the
ID token's signature (JWKS), issuer, audience, nonce and expiry. Register Airlock at the IdP as a
web application with the redirect URI \`https://<org>.<domain>/sso/callback\` (returned as \`redirect_uri\`).

- **Okta**: App integration → OIDC, Web Application, grant type Authorization Code, sign-in redirect
  URI as above. Issuer \`https://<okta-domain>/oauth2/default\` (custom authorization server) or
  \`https://<okta-domain>\` (org server). For groups add a \`groups\` claim to the ID token (filter
  e.g. "Matches regex .*") and request the \`groups\` scope where your server defines it. Scopes
  \`openid email profile\` (+ \`groups\`).
- **Microsoft Entra ID**: App registration → Web platform, redirect URI as above, a client secret.
  Issuer \`https://login.microsoftonline.com/<tenant-id>/v2.0\`. Token configuration → add the
  \`groups\` claim (Security groups; values are object IDs, so map those GUIDs in \`group_teams\`,
  or emit sAMAccountName for synced groups). Users with more than 200 groups get an overage
  claim instead: use SCIM for their teams. The \`email\` claim needs the optional claim or the
  mailbox; otherwise map \`email\` to \`preferred_username\`. Scopes \`openid email profile\`.
- **Google Workspace**: Google Cloud console → OAuth client ID, type Web application, redirect URI
  as above. Issuer \`https://accounts.google.com\`. ID tokens carry no groups: provision teams with
  SCIM (or map none); restrict sign-in to your domain in the OAuth consent screen (Internal).
  Scopes \`openid email profile\`.`;

const idpTags = ["Identity provider (SSO)"];
const oauthTags = ["OAuth authorization server"];

export const identityRoutes = {
  getIdp: createRoute({
    method: "get", path: "/identity-provider", tags: idpTags, summary: "The org's OpenID Connect identity provider",
    responses: { 200: json(IdentityProvider, "The IdP configuration (never the client secret)"), ...commonErrors, ...notFound },
  }),
  putIdp: createRoute({
    method: "put", path: "/identity-provider", tags: idpTags, summary: "Set the org's OpenID Connect identity provider",
    description: IDP_NOTES,
    request: { body: jsonBody(PutIdentityProvider) },
    responses: { 200: json(IdentityProvider, "Saved"), ...commonErrors },
  }),
  deleteIdp: createRoute({
    method: "delete", path: "/identity-provider", tags: idpTags, summary: "Remove the identity provider (SSO sign-in stops; tokens already issued stay valid until revoked)",
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
  getSettings: createRoute({
    method: "get", path: "/oauth-settings", tags: oauthTags, summary: "The org's OAuth authorization-server settings",
    responses: { 200: json(OAuthSettings, "The settings (defaults when never set)"), ...commonErrors },
  }),
  putSettings: createRoute({
    method: "put", path: "/oauth-settings", tags: oauthTags, summary: "Set the org's OAuth authorization-server settings",
    request: { body: jsonBody(OAuthSettings) },
    responses: { 200: json(OAuthSettings, "Saved"), ...commonErrors },
  }),
  listClients: createRoute({
    method: "get", path: "/oauth-clients", tags: oauthTags, summary: "List registered OAuth clients (dynamic registration)",
    description: "Clients identified by a metadata document URL are not stored and are not listed; their grants show under each user.",
    request: { query: KvPageQuery },
    responses: { 200: json(kvPage(OAuthClient), "A page of clients"), ...commonErrors },
  }),
  deleteClient: createRoute({
    method: "delete", path: "/oauth-clients/{id}", tags: oauthTags, summary: "Delete an OAuth client and revoke all its grants and tokens",
    request: { params: ClientParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
  listGrants: createRoute({
    method: "get", path: "/users/{id}/grants", tags: oauthTags, summary: "A user's OAuth grants (one per client and resource)",
    request: { params: IdParam, query: KvPageQuery },
    responses: { 200: json(kvPage(OAuthGrant), "A page of grants"), ...commonErrors, ...notFound },
  }),
  revokeGrant: createRoute({
    method: "delete", path: "/users/{id}/grants/{grant}", tags: oauthTags, summary: "Revoke a grant with its refresh and access tokens",
    request: { params: GrantParams },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
