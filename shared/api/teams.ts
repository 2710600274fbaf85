import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, PageQuery, Slug, Timestamp, commonErrors, conflict, json, jsonBody, noContent, notFound, page } from "./common.ts";

export const Team = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    member_count: z.number().int(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Team");

export const CreateTeam = z
  .strictObject({ name: Slug, description: z.string().max(1000).optional() })
  .openapi("CreateTeam");
export const UpdateTeam = z
  .strictObject({ name: Slug.optional(), description: z.string().max(1000).nullable().optional() })
  .openapi("UpdateTeam");

export const Member = z
  .object({ user_id: z.string(), email: z.string(), added_at: Timestamp })
  .openapi("Member");

const MemberParams = z.object({
  id: IdParam.shape.id,
  user_id: z.string().min(1).max(64).openapi({ param: { name: "user_id", in: "path" } }),
});

const tags = ["Teams"];

export const teamRoutes = {
  list: createRoute({
    method: "get", path: "/teams", tags, summary: "List teams",
    request: { query: PageQuery },
    responses: { 200: json(page(Team), "A page of teams"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/teams", tags, summary: "Create a team",
    request: { body: jsonBody(CreateTeam) },
    responses: { 201: json(Team, "Created"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/teams/{id}", tags, summary: "Get a team",
    request: { params: IdParam },
    responses: { 200: json(Team, "The team"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/teams/{id}", tags, summary: "Rename or describe a team",
    request: { params: IdParam, body: jsonBody(UpdateTeam) },
    responses: { 200: json(Team, "Updated"), ...commonErrors, ...notFound, ...conflict },
  }),
  delete: createRoute({
    method: "delete", path: "/teams/{id}", tags, summary: "Delete a team and its memberships",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
  listMembers: createRoute({
    method: "get", path: "/teams/{id}/members", tags, summary: "List a team's members",
    request: { params: IdParam, query: PageQuery },
    responses: { 200: json(page(Member), "A page of members"), ...commonErrors, ...notFound },
  }),
  addMember: createRoute({
    method: "put", path: "/teams/{id}/members/{user_id}", tags, summary: "Add a user to a team (idempotent)",
    request: { params: MemberParams },
    responses: { 200: json(Member, "The membership"), ...commonErrors, ...notFound },
  }),
  removeMember: createRoute({
    method: "delete", path: "/teams/{id}/members/{user_id}", tags, summary: "Remove a user from a team",
    request: { params: MemberParams },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
