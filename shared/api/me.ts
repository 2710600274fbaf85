import { createRoute, z } from "@hono/zod-openapi";
import { PrincipalSchema } from "../principal.ts";
import { commonErrors, json } from "./common.ts";

export const Principal = z.object(PrincipalSchema.shape).openapi("Principal");

export const meRoutes = {
  get: createRoute({
    method: "get", path: "/me", tags: ["Identity"], summary: "Who the credential is: org, user, teams, roles, client",
    description: "Any valid credential of the org may call this, API keys included.",
    responses: { 200: json(Principal, "The caller"), ...commonErrors },
  }),
};
