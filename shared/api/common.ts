import { z } from "@hono/zod-openapi";
import { ProblemSchema } from "../problem.ts";

/** The HTTP contract of the admin and operator APIs: owners implement it, the router documents it. */
// Rebuilt with the extended `z`: a schema made before @hono/zod-openapi loaded has no `.openapi()`.
export const Problem = z.object(ProblemSchema.shape).openapi("Problem");

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: Problem } },
});

/** Every route can answer these; each route adds what else it can. */
export const commonErrors = {
  400: problemResponse("Malformed request (bad JSON, bad query)"),
  401: problemResponse("Missing, invalid, revoked or expired credential"),
  403: problemResponse("The credential's role may not do this"),
  413: problemResponse("Body larger than the configured limit"),
  415: problemResponse("Body is not application/json"),
  422: problemResponse("Body failed validation (unknown or invalid fields)"),
} as const;
export const notFound = { 404: problemResponse("No such resource in this org") } as const;
export const conflict = { 409: problemResponse("Conflicts with an existing resource") } as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

/**
 * Marks a POST that only reads (runs a computation over the org's data, changes nothing):
 * auditors may call it and it does not bump the org's config version.
 */
export const READ_ONLY = { "x-airlock-read-only": true } as const;

/**
 * Marks a route an agent's own credential (API key, OAuth token) may call, not only an admin
 * token: the owning Worker limits it to the caller's own records (`/mcp-connections`).
 */
export const SELF_SERVICE = { "x-airlock-self-service": true } as const;

export const noContent = { description: "Done; no body" } as const;

export const Timestamp = z.iso.datetime().openapi({ example: "2026-11-25T09:30:00.000Z" });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: "Items per page (1–200)" }),
  cursor: z.string().max(200).optional().openapi({ description: "`next_cursor` from the previous page" }),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

export const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

export const Name = z.string().trim().min(1).max(200);
/** A lower-case handle usable in URLs and policies: `sre`, `data-platform`. */
export const Slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "lower-case letters, digits and inner hyphens, 1–63 characters");

