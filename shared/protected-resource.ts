/**
 * The org's OAuth protected resources (RFC 9728): each MCP server at `/mcp/<server>` and
 * each model provider at `/llm/<provider>` on the org's origin is its own resource, so a
 * token is bound (RFC 8707) to one of them and worthless at any other. The router uses
 * this to name the resource a request addresses; the auth Worker to accept a `resource`
 * parameter and to publish the resource's metadata.
 *
 * There is no MCP registry or provider list yet, so any well-formed name is accepted as a
 * resource; the registry narrows this when it lands.
 */
export type ResourceKind = "mcp" | "llm";

export interface ProtectedResource {
  kind: ResourceKind;
  /** The MCP server's or the model provider's name. */
  name: string;
  /** The canonical resource identifier and token audience: `https://<org host>/<kind>/<name>`. */
  id: string;
  /** Where its RFC 9728 metadata is served (path-inserted, RFC 9728 §3.1). */
  metadataUrl: string;
}

const NAME = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;
export const METADATA_PREFIX = "/.well-known/oauth-protected-resource";

function resource(origin: string, kind: ResourceKind, name: string): ProtectedResource | null {
  if (!NAME.test(name)) return null;
  return { kind, name, id: `${origin}/${kind}/${name}`, metadataUrl: `${origin}${METADATA_PREFIX}/${kind}/${name}` };
}

function parsePath(origin: string, path: string, allowSubpath: boolean): ProtectedResource | null {
  const match = /^\/(mcp|llm)\/([^/]+)(\/.*)?$/.exec(path);
  if (!match || (match[3] !== undefined && !allowSubpath)) return null;
  return resource(origin, match[1] as ResourceKind, match[2]!);
}

/** The resource a request URL addresses: `/mcp/demo`, `/mcp/demo/…`, `/llm/openai/v1/chat/completions`. */
export function resourceOfRequest(url: URL): ProtectedResource | null {
  return parsePath(url.origin, url.pathname, true);
}

/** The resource whose metadata a `/.well-known/oauth-protected-resource/<kind>/<name>` URL asks for. */
export function resourceOfMetadataUrl(url: URL): ProtectedResource | null {
  if (!url.pathname.startsWith(`${METADATA_PREFIX}/`)) return null;
  return parsePath(url.origin, url.pathname.slice(METADATA_PREFIX.length), false);
}

/**
 * A client-supplied `resource` parameter, when it names exactly one of this origin's
 * resources in canonical form (scheme and host case are folded by the URL parser; the
 * path, a trailing slash, a query or a fragment are not forgiven).
 */
export function resourceOfIdentifier(origin: string, identifier: string): ProtectedResource | null {
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    return null;
  }
  if (url.origin !== origin || url.search || url.hash || url.username || url.password) return null;
  return parsePath(origin, url.pathname, false);
}
