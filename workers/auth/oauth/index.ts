import type { OrgRequestContext } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";

// Placeholder replaced by the OAuth 2.1 authorization server and SSO (issue 4).
export async function serveIdentity(_request: Request, _context: OrgRequestContext, _env: Env, _ctx: ExecutionContext): Promise<Response> {
  return new Response(null, { status: 404 });
}
