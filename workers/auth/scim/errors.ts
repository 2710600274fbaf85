/**
 * SCIM errors (RFC 7644 §3.12): `application/scim+json` bodies with the Error schema,
 * `status` as a string and, for 400/409, the `scimType` the RFC names. The router's
 * event records `scimType` (or `scim_<status>`) as the refusal's reason.
 */
export const SCIM_CONTENT_TYPE = "application/scim+json";
export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

/** RFC 7644 Table 9, plus 409 `uniqueness` and 400 `mutability`. */
export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive";

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}) {
    super(detail);
    this.status = status;
    this.scimType = scimType;
    this.headers = headers;
  }
}

export const badRequest = (scimType: ScimType, detail: string) => new ScimError(400, detail, scimType);
export const notFound = (detail: string) => new ScimError(404, detail);

export function scimErrorResponse(error: ScimError): Response {
  const body = {
    schemas: [ERROR_SCHEMA],
    status: String(error.status),
    ...(error.scimType ? { scimType: error.scimType } : {}),
    detail: error.message,
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": SCIM_CONTENT_TYPE, ...error.headers },
  });
}
