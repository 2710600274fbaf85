import { createRoute, z } from "@hono/zod-openapi";
import { CreateAdminToken, CreatedAdminToken } from "./credentials.ts";
import { Name, PageQuery, Slug, Timestamp, commonErrors, conflict, json, jsonBody, notFound, page } from "./common.ts";

/** The platform operator's API at `https://api.<domain>/v1`. */
export const OrgResource = z.object({ id: z.string(), slug: z.string(), name: z.string(), created_at: Timestamp }).openapi("Org");
export const CreateOrg = z
  .strictObject({ slug: Slug.refine((s) => s !== "api", "is reserved"), name: Name })
  .openapi("CreateOrg");

const SlugParam = z.object({ slug: Slug.openapi({ param: { name: "slug", in: "path" } }) });
const tags = ["Orgs"];

export const orgRoutes = {
  list: createRoute({
    method: "get", path: "/orgs", tags, summary: "List orgs",
    request: { query: PageQuery },
    responses: { 200: json(page(OrgResource), "A page of orgs"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/orgs", tags, summary: "Create an org",
    request: { body: jsonBody(CreateOrg) },
    responses: { 201: json(OrgResource, "Created"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/orgs/{slug}", tags, summary: "Get an org",
    request: { params: SlugParam },
    responses: { 200: json(OrgResource, "The org"), ...commonErrors, ...notFound },
  }),
  mintAdminToken: createRoute({
    method: "post", path: "/orgs/{slug}/admin-tokens", tags, summary: "Mint an admin token for an org (its first owner)",
    request: { params: SlugParam, body: jsonBody(CreateAdminToken) },
    responses: { 201: json(CreatedAdminToken, "Created; the secret is shown once"), ...commonErrors, ...notFound },
  }),
};
