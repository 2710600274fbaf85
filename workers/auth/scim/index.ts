import type { OrgRequestContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";

// Placeholder replaced by the SCIM implementation (issue 4).
export async function serveScim(_request: Request, _context: OrgRequestContext, _env: Env): Promise<Response> {
  return new Response(null, { status: 404 });
}
