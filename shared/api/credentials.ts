import { createRoute, z } from "@hono/zod-openapi";
import { RoleSchema } from "../principal.ts";
import { IdParam, Name, PageQuery, Timestamp, commonErrors, json, jsonBody, noContent, notFound, page } from "./common.ts";

const credentialFields = {
  id: z.string(),
  name: z.string(),
  hint: z.string().openapi({ description: "Start and end of the secret, to recognise it; never usable" }),
  created_at: Timestamp,
  created_by: z.string().nullable(),
  expires_at: Timestamp.nullable(),
  revoked_at: Timestamp.nullable(),
};
const secretField = {
  secret: z.string().openapi({ description: "The credential. Shown only in this response; Airlock keeps only its SHA-256." }),
};
/** Expiry must lie in the future; omit it for a credential that lives until revoked. */
const ExpiresAt = z.iso
  .datetime()
  .refine((value) => Date.parse(value) > Date.now(), "must be in the future")
  .optional();

export const ApiKey = z.object({ ...credentialFields, user_id: z.string().nullable() }).openapi("ApiKey");
export const CreatedApiKey = ApiKey.extend(secretField).openapi("CreatedApiKey");
export const CreateApiKey = z
  .strictObject({ name: Name, user_id: z.string().max(64).optional(), expires_at: ExpiresAt })
  .openapi("CreateApiKey");

export const AdminToken = z.object({ ...credentialFields, role: RoleSchema }).openapi("AdminToken");
export const CreatedAdminToken = AdminToken.extend(secretField).openapi("CreatedAdminToken");
export const CreateAdminToken = z
  .strictObject({ name: Name, role: RoleSchema, expires_at: ExpiresAt })
  .openapi("CreateAdminToken");

const keyTags = ["API keys"];
const tokenTags = ["Admin tokens"];

export const apiKeyRoutes = {
  list: createRoute({
    method: "get", path: "/api-keys", tags: keyTags, summary: "List API keys (agents' credentials)",
    request: { query: PageQuery.extend({ user_id: z.string().optional() }) },
    responses: { 200: json(page(ApiKey), "A page of API keys"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/api-keys", tags: keyTags, summary: "Create an API key; the secret is shown once",
    request: { body: jsonBody(CreateApiKey) },
    responses: { 201: json(CreatedApiKey, "Created"), ...commonErrors, ...notFound },
  }),
  get: createRoute({
    method: "get", path: "/api-keys/{id}", tags: keyTags, summary: "Get an API key",
    request: { params: IdParam },
    responses: { 200: json(ApiKey, "The API key"), ...commonErrors, ...notFound },
  }),
  revoke: createRoute({
    method: "delete", path: "/api-keys/{id}", tags: keyTags, summary: "Revoke an API key (kept for the audit trail)",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};

export const adminTokenRoutes = {
  list: createRoute({
    method: "get", path: "/admin-tokens", tags: tokenTags, summary: "List admin tokens",
    request: { query: PageQuery },
    responses: { 200: json(page(AdminToken), "A page of admin tokens"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/admin-tokens", tags: tokenTags,
    summary: "Create an admin token; the secret is shown once",
    description: "Owners may mint any role; admins may mint admin and auditor tokens.",
    request: { body: jsonBody(CreateAdminToken) },
    responses: { 201: json(CreatedAdminToken, "Created"), ...commonErrors },
  }),
  get: createRoute({
    method: "get", path: "/admin-tokens/{id}", tags: tokenTags, summary: "Get an admin token",
    request: { params: IdParam },
    responses: { 200: json(AdminToken, "The admin token"), ...commonErrors, ...notFound },
  }),
  revoke: createRoute({
    method: "delete", path: "/admin-tokens/{id}", tags: tokenTags, summary: "Revoke an admin token",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
