import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, PageQuery, Timestamp, commonErrors, conflict, json, jsonBody, noContent, notFound, page } from "./common.ts";

/** The model catalog: what callers may name, aliases, weighted deployments, ordered fallbacks, price overrides. */
const ModelName = z.string().trim().min(1).max(200).regex(/^[^\s/?#]+$/, "no spaces, slashes, ? or #");

export const Deployment = z.strictObject({
  provider_id: z.string().min(1).max(64),
  model: ModelName.openapi({ description: "The model name the provider knows" }),
  weight: z.number().int().min(1).max(1000).default(1),
});
export const Fallback = z.strictObject({ provider_id: z.string().min(1).max(64), model: ModelName });
export const Price = z
  .strictObject({
    input: z.number().min(0).max(1_000_000),
    output: z.number().min(0).max(1_000_000),
    cached_input: z.number().min(0).max(1_000_000).optional(),
  })
  .openapi("ModelPrice", { description: "USD per million tokens; overrides the shipped price table for this model" });

export const Model = z
  .object({
    id: z.string(),
    name: z.string(),
    aliases: z.array(z.string()),
    deployments: z.array(z.object({ provider_id: z.string(), model: z.string(), weight: z.number().int() })),
    fallbacks: z.array(z.object({ provider_id: z.string(), model: z.string() })),
    price: z.object({ input: z.number(), output: z.number(), cached_input: z.number().optional() }).nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Model");

export const CreateModel = z
  .strictObject({
    name: ModelName.openapi({ description: "The model id callers send, e.g. `gpt-4o-mini`" }),
    aliases: z.array(ModelName).max(20).default([]).openapi({ description: "Other names for it, e.g. `fast`" }),
    deployments: z.array(Deployment).min(1).max(20),
    fallbacks: z.array(Fallback).max(10).default([]),
    price: Price.nullable().default(null),
  })
  .openapi("CreateModel");

export const UpdateModel = z
  .strictObject({
    aliases: z.array(ModelName).max(20).optional(),
    deployments: z.array(Deployment).min(1).max(20).optional(),
    fallbacks: z.array(Fallback).max(10).optional(),
    price: Price.nullable().optional(),
  })
  .openapi("UpdateModel");

const tags = ["Model gateway"];

export const modelRoutes = {
  list: createRoute({
    method: "get", path: "/models", tags, summary: "List the model catalog",
    request: { query: PageQuery },
    responses: { 200: json(page(Model), "A page of models"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/models", tags, summary: "Add a model with its aliases, deployments and fallbacks",
    request: { body: jsonBody(CreateModel) },
    responses: { 201: json(Model, "Created"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/models/{id}", tags, summary: "Get a model",
    request: { params: IdParam },
    responses: { 200: json(Model, "The model"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/models/{id}", tags, summary: "Change a model's aliases, routing or price",
    request: { params: IdParam, body: jsonBody(UpdateModel) },
    responses: { 200: json(Model, "Updated"), ...commonErrors, ...notFound, ...conflict },
  }),
  delete: createRoute({
    method: "delete", path: "/models/{id}", tags, summary: "Remove a model from the catalog",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
