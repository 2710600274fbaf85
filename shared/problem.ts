import { z } from "zod";

/**
 * RFC 9457 problem details. Every admin and operator API error is one of these, with a
 * stable `code` a client can branch on and the request id support can search for.
 */
export const PROBLEM_CODES = {
  malformed_json: { status: 400, title: "Malformed JSON" },
  invalid_request: { status: 400, title: "Invalid request" },
  unauthenticated: { status: 401, title: "Authentication required" },
  invalid_credential: { status: 401, title: "Invalid credential" },
  credential_revoked: { status: 401, title: "Credential revoked" },
  credential_expired: { status: 401, title: "Credential expired" },
  user_deactivated: { status: 401, title: "User deactivated" },
  credential_wrong_org: { status: 401, title: "Credential belongs to another org" },
  credential_wrong_resource: { status: 401, title: "Credential issued for another resource" },
  forbidden: { status: 403, title: "Forbidden" },
  read_only_role: { status: 403, title: "Role is read-only" },
  unknown_org: { status: 404, title: "Unknown org" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  policy_tests_failed: { status: 409, title: "Policy tests failed" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  validation_failed: { status: 422, title: "Validation failed" },
  precondition_required: { status: 428, title: "Precondition required" },
  internal_error: { status: 500, title: "Internal error" },
  upstream_unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string(),
  request_id: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

export interface ProblemInit {
  detail: string;
  requestId?: string;
  errors?: { path: string; message: string }[];
  headers?: HeadersInit;
}

export const PROBLEM_TYPE_BASE = "https://airlock.dev/problems/";

export function problemBody(code: ProblemCode, init: ProblemInit): Problem {
  const { status, title } = PROBLEM_CODES[code];
  return {
    type: PROBLEM_TYPE_BASE + code.replaceAll("_", "-"),
    title,
    status,
    code,
    detail: init.detail,
    ...(init.requestId ? { request_id: init.requestId } : {}),
    ...(init.errors ? { errors: init.errors } : {}),
  };
}

export function problem(code: ProblemCode, init: ProblemInit): Response {
  const body = problemBody(code, init);
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/problem+json");
  if (body.status === 401 && !headers.has("www-authenticate")) headers.set("www-authenticate", 'Bearer realm="airlock"');
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

/** Thrown inside a Worker; the Worker's error handler turns it into the protocol's error. */
export class ProblemError extends Error {
  readonly code: ProblemCode;
  readonly errors: ProblemInit["errors"];
  constructor(code: ProblemCode, detail: string, errors?: ProblemInit["errors"]) {
    super(detail);
    this.code = code;
    this.errors = errors;
  }
}

/** zod issues as problem `errors`: the path to the field and what is wrong with it, never the value. */
export function zodErrors(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.join(".") : "(body)",
    message: issue.message,
  }));
}
