import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, PageQuery, Slug, Timestamp, commonErrors, conflict, json, jsonBody, noContent, notFound, page } from "./common.ts";

/** The model gateway's admin resources (served by the router): providers and their credentials. */
export const ProviderKind = z.enum(["openai", "anthropic", "gemini", "azure_openai", "openai_compatible"]);

export const Provider = z
  .object({
    id: z.string(),
    name: z.string().openapi({ description: "Agents reach it at `/llm/<name>/…`" }),
    kind: ProviderKind,
    base_url: z.string(),
    consumer: z.boolean(),
    timeout_ms: z.number().int(),
    credential: z.object({ set: z.boolean(), hint: z.string().nullable() }).openapi({ description: "Never the secret: whether one is set, and its last 4 characters" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Provider");

const BaseUrl = z.url().max(2000).openapi({ description: "Origin (and path prefix) the client's path is appended to, e.g. https://api.openai.com" });
const TimeoutMs = z.number().int().min(100).max(600_000);

export const CreateProvider = z
  .strictObject({
    name: Slug,
    kind: ProviderKind,
    base_url: BaseUrl.optional().openapi({ description: "Defaults to the provider's public API for openai, anthropic and gemini" }),
    consumer: z.boolean().default(false),
    timeout_ms: TimeoutMs.default(60_000),
    credential: z.string().min(1).max(4000).optional(),
  })
  .openapi("CreateProvider");

export const UpdateProvider = z
  .strictObject({ base_url: BaseUrl.optional(), consumer: z.boolean().optional(), timeout_ms: TimeoutMs.optional() })
  .openapi("UpdateProvider");

export const SetCredential = z.strictObject({ credential: z.string().min(1).max(4000) }).openapi("SetProviderCredential");

const tags = ["Model gateway"];

export const providerRoutes = {
  list: createRoute({
    method: "get", path: "/providers", tags, summary: "List model providers",
    request: { query: PageQuery },
    responses: { 200: json(page(Provider), "A page of providers"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/providers", tags, summary: "Add a model provider (optionally with its credential)",
    request: { body: jsonBody(CreateProvider) },
    responses: { 201: json(Provider, "Created"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/providers/{id}", tags, summary: "Get a provider",
    request: { params: IdParam },
    responses: { 200: json(Provider, "The provider"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/providers/{id}", tags, summary: "Change a provider's base URL, consumer flag or timeout",
    request: { params: IdParam, body: jsonBody(UpdateProvider) },
    responses: { 200: json(Provider, "Updated"), ...commonErrors, ...notFound },
  }),
  delete: createRoute({
    method: "delete", path: "/providers/{id}", tags, summary: "Remove a provider (refused while a model routes to it)",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound, ...conflict },
  }),
  setCredential: createRoute({
    method: "put", path: "/providers/{id}/credential", tags, summary: "Set or rotate the provider's API key (sealed at rest, never returned)",
    request: { params: IdParam, body: jsonBody(SetCredential) },
    responses: { 200: json(Provider, "The provider, with the new credential's hint"), ...commonErrors, ...notFound },
  }),
  deleteCredential: createRoute({
    method: "delete", path: "/providers/{id}/credential", tags, summary: "Remove the provider's API key",
    request: { params: IdParam },
    responses: { 200: json(Provider, "The provider, without a credential"), ...commonErrors, ...notFound },
  }),
};
