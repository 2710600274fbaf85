import { createRoute, z } from "@hono/zod-openapi";
import { Timestamp, commonErrors, json, notFound } from "./common.ts";

/** The org's SCIM bearer token: one active at a time; rotating revokes the previous one. */
export const ScimToken = z
  .object({
    id: z.string(),
    hint: z.string().openapi({ description: "Start and end of the token, to recognise it; never usable" }),
    created_at: Timestamp,
    scim_base_url: z.url().openapi({ description: "The SCIM 2.0 base URL to give the IdP (Okta: SCIM connector base URL; Entra: Tenant URL)" }),
  })
  .openapi("ScimToken");
export const CreatedScimToken = ScimToken.extend({
  secret: z.string().openapi({ description: "The token. Shown only in this response; Airlock keeps only its SHA-256." }),
}).openapi("CreatedScimToken");

const tags = ["SCIM provisioning"];

export const scimTokenRoutes = {
  get: createRoute({
    method: "get", path: "/scim-token", tags, summary: "The org's active SCIM token (never its secret)",
    responses: { 200: json(ScimToken, "The active SCIM token"), ...commonErrors, ...notFound },
  }),
  rotate: createRoute({
    method: "post", path: "/scim-token", tags, summary: "Mint a new SCIM token and revoke the previous one; the secret is shown once",
    description: "The previous token stops working at once: update the IdP's provisioning settings with the new one.",
    responses: { 201: json(CreatedScimToken, "Created"), ...commonErrors },
  }),
};
