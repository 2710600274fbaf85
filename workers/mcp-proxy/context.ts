import { MCP_CONTEXT_HEADER, MCP_REQUEST_ID_HEADER, McpCallerSchema, type McpRequestContext } from "../../shared/rpc.ts";

type Caller = Omit<McpRequestContext, "requestId">;

/**
 * Callers already validated, by their exact header text. A session sends the same caller
 * (org, principal, config version) on every request, and validating a principal with zod cost
 * about as much as the rest of a ping's work in this Worker; an entry is only ever the
 * result of that same validation, so reusing it changes nothing but the cost.
 */
const validated = new Map<string, Caller>();
const MAX_CALLERS = 2_000;

/** The context the router set on a request, or null when it is missing or malformed (then the request did not come through the router). */
export function requestContext(headers: Headers): McpRequestContext | null {
  const requestId = headers.get(MCP_REQUEST_ID_HEADER);
  const header = headers.get(MCP_CONTEXT_HEADER);
  if (!requestId || header === null) return null;
  const caller = validated.get(header) ?? validate(header);
  return caller ? { requestId, ...caller } : null;
}

function validate(header: string): Caller | null {
  let json: unknown;
  try {
    json = JSON.parse(header);
  } catch {
    return null;
  }
  const parsed = McpCallerSchema.safeParse(json);
  if (!parsed.success) return null;
  if (validated.size >= MAX_CALLERS) validated.clear();
  validated.set(header, parsed.data);
  return parsed.data;
}
