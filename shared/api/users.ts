import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, Name, PageQuery, Timestamp, commonErrors, conflict, json, jsonBody, noContent, notFound, page } from "./common.ts";

export const TeamRef = z.object({ id: z.string(), name: z.string() }).openapi("TeamRef");

export const User = z
  .object({
    id: z.string(),
    email: z.email(),
    name: z.string().nullable(),
    status: z.enum(["active", "deactivated"]),
    teams: z.array(TeamRef),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("User");

export const CreateUser = z.strictObject({ email: z.email().max(320), name: Name.optional() }).openapi("CreateUser");
export const UpdateUser = z
  .strictObject({ name: Name.nullable().optional(), status: z.enum(["active", "deactivated"]).optional() })
  .openapi("UpdateUser");

const tags = ["Users"];

export const userRoutes = {
  list: createRoute({
    method: "get", path: "/users", tags, summary: "List users",
    request: { query: PageQuery.extend({ email: z.string().optional() }) },
    responses: { 200: json(page(User), "A page of users"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/users", tags, summary: "Create a user",
    request: { body: jsonBody(CreateUser) },
    responses: { 201: json(User, "Created"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/users/{id}", tags, summary: "Get a user",
    request: { params: IdParam },
    responses: { 200: json(User, "The user"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/users/{id}", tags, summary: "Rename, deactivate or reactivate a user",
    description: "A deactivated user's API keys stop working on their next request.",
    request: { params: IdParam, body: jsonBody(UpdateUser) },
    responses: { 200: json(User, "Updated"), ...commonErrors, ...notFound },
  }),
  delete: createRoute({
    method: "delete", path: "/users/{id}", tags, summary: "Delete a user with their memberships and API keys",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
