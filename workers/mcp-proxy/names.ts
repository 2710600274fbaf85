/**
 * Names a virtual server exposes: `server__tool`, at most 64 characters (the limit MCP
 * clients such as Claude and OpenAI enforce); a longer one is cut and ends in a
 * deterministic 8-hex-digit hash of the full name, remembered per isolate to route calls.
 */
export const MAX_TOOL_NAME = 64;
const SEPARATOR = "__";

/** FNV-1a, 32 bits: short, stable, synchronous; collisions only matter within one virtual server. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

const shortened = new Map<string, { server: string; name: string }>();

export function prefixedName(server: string, name: string): string {
  const full = `${server}${SEPARATOR}${name}`;
  if (full.length <= MAX_TOOL_NAME) return full;
  const short = `${full.slice(0, MAX_TOOL_NAME - 9)}_${fnv1a(full)}`;
  shortened.set(short, { server, name });
  return short;
}

/** The server and upstream name behind an exposed name, when it is a prefixed one this isolate can resolve. */
export function unprefix(exposed: string, servers: string[]): { server: string; name: string } | null {
  const known = shortened.get(exposed);
  if (known) return known;
  for (const server of servers) {
    if (exposed.startsWith(`${server}${SEPARATOR}`)) {
      const name = exposed.slice(server.length + SEPARATOR.length);
      if (prefixedName(server, name) === exposed) return { server, name };
    }
  }
  return null;
}
