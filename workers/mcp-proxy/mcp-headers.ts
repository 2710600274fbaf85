import type { Classified } from "./jsonrpc.ts";
import { STATELESS_VERSION } from "./stateless.ts";

/** Where `Mcp-Name` comes from in the body, per method (SEP-2243). */
const NAMED: Record<string, "name" | "uri"> = {
  "tools/call": "name", "prompts/get": "name", "resources/read": "uri", "resources/subscribe": "uri", "resources/unsubscribe": "uri",
};

/** A header value, with SEP-2243's `=?base64?…?=` wrapper (for values outside the header charset) undone. */
function decoded(value: string): string | null {
  const wrapped = /^=\?base64\?(.*)\?=$/i.exec(value);
  if (!wrapped) return value;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(wrapped[1]!), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

/**
 * `Mcp-Method` / `Mcp-Name` (protocol 2026-07-28) let intermediaries route on headers, so
 * they must say what the body says: why they do not, or null. Older clients may omit them;
 * a 2026-07-28 client must send them.
 */
export function headerMismatch(headers: Headers, classified: Classified, version: string | null): string | null {
  if (classified.kind === "response") return null;
  const strict = version === STATELESS_VERSION;
  const { method } = classified.message;
  const sentMethod = headers.get("mcp-method");
  if (sentMethod === null) {
    if (strict) return "the Mcp-Method header is required";
  } else if (decoded(sentMethod) !== method) return `Mcp-Method header value '${sentMethod}' does not match body value '${method}'`;
  const field = NAMED[method];
  const bodyName = field ? classified.message.params?.[field] : undefined;
  const sentName = headers.get("mcp-name");
  if (sentName === null) return strict && typeof bodyName === "string" ? `the Mcp-Name header is required for ${method}` : null;
  const name = decoded(sentName);
  if (name !== bodyName) return `Mcp-Name header value '${sentName}' does not match body value '${typeof bodyName === "string" ? bodyName : ""}'`;
  return null;
}
