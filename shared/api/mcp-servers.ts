import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, PageQuery, Timestamp, commonErrors, conflict, json, jsonBody, noContent, notFound, page } from "./common.ts";

/** `/mcp/<name>`: lower-case letters, digits, inner `-`/`_`; no `__` (it separates server and tool in virtual servers). */
export const McpName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/, "lower-case letters, digits, inner hyphens or underscores, 1–63 characters")
  .refine((name) => !name.includes("__"), "must not contain `__`");

const Tag = z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,62}$/, "lower-case tag");
const TeamIds = z.array(z.string().min(1).max(64)).max(100);

export const MCP_TRANSPORTS = ["streamable_http", "sse"] as const;
export const MCP_AUTH_MODES = ["none", "static", "oauth"] as const;

const StaticSecret = z.strictObject({
  /** Header the upstream expects it in; `authorization` by default (send `Bearer …` as the value). */
  header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).default("authorization"),
  value: z.string().min(1).max(8192),
});

/** `auth_mode: oauth`: Airlock's client at the upstream's authorization server; each user connects their own account. */
export const OAuthConfig = z.strictObject({
  client_id: z.string().min(1).max(512),
  /** Sealed at rest and never returned; omit for a public client (PKCE only). */
  client_secret: z.string().min(1).max(4096).optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, "an OAuth scope token")).max(50).default([]),
  /** Both or neither: when absent they are discovered from the server (RFC 9728 protected resource metadata, then RFC 8414). */
  authorization_endpoint: z.string().max(2048).optional(),
  token_endpoint: z.string().max(2048).optional(),
}).refine((o) => (o.authorization_endpoint === undefined) === (o.token_endpoint === undefined), {
  message: "give both authorization_endpoint and token_endpoint, or neither", path: ["token_endpoint"],
});

export const McpServer = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    url: z.string(),
    transport: z.enum(MCP_TRANSPORTS),
    auth_mode: z.enum(MCP_AUTH_MODES),
    /** The static secret's header and last characters; never the secret. */
    secret: z.object({ header: z.string(), hint: z.string() }).nullable(),
    /** The OAuth client (never its secret: a hint), for `auth_mode: oauth`. */
    oauth: z.object({
      client_id: z.string(), client_secret_hint: z.string().nullable(), scopes: z.array(z.string()),
      authorization_endpoint: z.string().nullable(), token_endpoint: z.string().nullable(),
    }).nullable(),
    owner_team_id: z.string().nullable(),
    visible_team_ids: z.array(z.string()),
    tags: z.array(z.string()),
    tool_tags: z.record(z.string(), z.array(z.string())),
    enabled: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("McpServer");

/** What registering or updating a server found in its tools, listed then with the server's own credential. */
export const McpToolScan = z
  .object({
    tools: z.number().int(),
    /** Held back until an admin approves them: flagged by the guardrail, or changed since approved. */
    quarantined: z.array(z.string()),
    /** Why the tools could not be listed now; the write still succeeded and they are scanned on first use. */
    warning: z.string().optional(),
  })
  .openapi("McpToolScan");

export const McpServerWritten = McpServer.extend({ tool_scan: McpToolScan }).openapi("McpServerWritten");

export const CreateMcpServer = z
  .strictObject({
    name: McpName,
    description: z.string().max(1000).optional(),
    url: z.string().max(2048),
    transport: z.enum(MCP_TRANSPORTS).default("streamable_http"),
    auth_mode: z.enum(MCP_AUTH_MODES).default("none"),
    secret: StaticSecret.optional(),
    oauth: OAuthConfig.optional(),
    owner_team_id: z.string().max(64).optional(),
    visible_team_ids: TeamIds.default([]),
    tags: z.array(Tag).max(50).default([]),
    tool_tags: z.record(z.string().max(128), z.array(Tag).max(20)).default({}),
    enabled: z.boolean().default(true),
  })
  .openapi("CreateMcpServer");

export const UpdateMcpServer = z
  .strictObject({
    name: McpName.optional(),
    description: z.string().max(1000).nullable().optional(),
    url: z.string().max(2048).optional(),
    transport: z.enum(MCP_TRANSPORTS).optional(),
    auth_mode: z.enum(MCP_AUTH_MODES).optional(),
    secret: StaticSecret.nullable().optional(),
    oauth: OAuthConfig.optional(),
    owner_team_id: z.string().max(64).nullable().optional(),
    visible_team_ids: TeamIds.optional(),
    tags: z.array(Tag).max(50).optional(),
    tool_tags: z.record(z.string().max(128), z.array(Tag).max(20)).optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("UpdateMcpServer");

export const ToolPin = z
  .object({
    server_id: z.string(),
    tool: z.string(),
    hash: z.string(),
    status: z.enum(["approved", "quarantined"]),
    reason: z.string().nullable(),
    pending_hash: z.string().nullable(),
    /** The changed definition awaiting approval (name, description, inputSchema). */
    pending_definition: z.record(z.string(), z.unknown()).nullable(),
    first_seen_at: Timestamp,
    updated_at: Timestamp,
    approved_by: z.string().nullable(),
  })
  .openapi("ToolPin");

const PinParams = z.object({
  id: IdParam.shape.id,
  tool: z.string().min(1).max(128).openapi({ param: { name: "tool", in: "path" } }),
});

const VirtualMember = z.strictObject({
  server: McpName,
  tools: z.array(z.string().max(128)).max(500).optional(),
  rename: z.record(z.string().max(128), z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).optional(),
  descriptions: z.record(z.string().max(128), z.string().max(4000)).optional(),
});

export const McpVirtualServer = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    members: z.array(VirtualMember),
    visible_team_ids: z.array(z.string()),
    tags: z.array(z.string()),
    enabled: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("McpVirtualServer");

export const CreateMcpVirtualServer = z
  .strictObject({
    name: McpName,
    description: z.string().max(1000).optional(),
    members: z.array(VirtualMember).min(1).max(20),
    visible_team_ids: TeamIds.default([]),
    tags: z.array(Tag).max(50).default([]),
    enabled: z.boolean().default(true),
  })
  .openapi("CreateMcpVirtualServer");

export const UpdateMcpVirtualServer = z
  .strictObject({
    name: McpName.optional(),
    description: z.string().max(1000).nullable().optional(),
    members: z.array(VirtualMember).min(1).max(20).optional(),
    visible_team_ids: TeamIds.optional(),
    tags: z.array(Tag).max(50).optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("UpdateMcpVirtualServer");

const tags = ["MCP servers"];

export const mcpServerRoutes = {
  list: createRoute({
    method: "get", path: "/mcp-servers", tags, summary: "List registered MCP servers",
    request: { query: PageQuery },
    responses: { 200: json(page(McpServer), "A page of MCP servers"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/mcp-servers", tags, summary: "Register an MCP server",
    request: { body: jsonBody(CreateMcpServer) },
    responses: { 201: json(McpServerWritten, "Registered, with what its tools scan found"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/mcp-servers/{id}", tags, summary: "Get an MCP server",
    request: { params: IdParam },
    responses: { 200: json(McpServer, "The server"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/mcp-servers/{id}", tags, summary: "Change an MCP server",
    request: { params: IdParam, body: jsonBody(UpdateMcpServer) },
    responses: { 200: json(McpServerWritten, "Updated, with what its tools scan found"), ...commonErrors, ...notFound, ...conflict },
  }),
  delete: createRoute({
    method: "delete", path: "/mcp-servers/{id}", tags, summary: "Remove an MCP server and its tool pins",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
  listPins: createRoute({
    method: "get", path: "/mcp-servers/{id}/pins", tags, summary: "List a server's pinned tool definitions",
    request: { params: IdParam },
    responses: { 200: json(z.object({ data: z.array(ToolPin) }), "The pins"), ...commonErrors, ...notFound },
  }),
  approvePin: createRoute({
    method: "post", path: "/mcp-servers/{id}/pins/{tool}/approve", tags,
    summary: "Approve a quarantined tool: its current definition becomes the pin",
    request: { params: PinParams },
    responses: { 200: json(ToolPin, "Approved"), ...commonErrors, ...notFound, ...conflict },
  }),
  deletePin: createRoute({
    method: "delete", path: "/mcp-servers/{id}/pins/{tool}", tags, summary: "Forget a pin (the next definition seen is pinned afresh)",
    request: { params: PinParams },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};

const virtualTags = ["MCP virtual servers"];

export const mcpVirtualServerRoutes = {
  list: createRoute({
    method: "get", path: "/mcp-virtual-servers", tags: virtualTags, summary: "List virtual MCP servers",
    request: { query: PageQuery },
    responses: { 200: json(page(McpVirtualServer), "A page of virtual servers"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/mcp-virtual-servers", tags: virtualTags, summary: "Compose a virtual MCP server from registered servers",
    request: { body: jsonBody(CreateMcpVirtualServer) },
    responses: { 201: json(McpVirtualServer, "Created"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/mcp-virtual-servers/{id}", tags: virtualTags, summary: "Get a virtual MCP server",
    request: { params: IdParam },
    responses: { 200: json(McpVirtualServer, "The virtual server"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/mcp-virtual-servers/{id}", tags: virtualTags, summary: "Change a virtual MCP server",
    request: { params: IdParam, body: jsonBody(UpdateMcpVirtualServer) },
    responses: { 200: json(McpVirtualServer, "Updated"), ...commonErrors, ...notFound, ...conflict },
  }),
  delete: createRoute({
    method: "delete", path: "/mcp-virtual-servers/{id}", tags: virtualTags, summary: "Delete a virtual MCP server",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
