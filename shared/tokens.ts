import { ulid } from "./ids.ts";
import { randomBase64Url, sha256Hex } from "./crypto.ts";

/**
 * Airlock credentials are `alk_<kind>_<id>_<secret>`: the id finds the row without a
 * scan and says which credential an admin is looking at; the secret (256 bits) is
 * stored only as the SHA-256 of the whole token. The fixed prefix lets secret scanners
 * (GitHub's, Airlock's own guardrail) recognise a leaked token.
 */
export const TOKEN_KINDS = { api_key: "key", admin_token: "adm", scim_token: "scim" } as const;
export type TokenKind = keyof typeof TOKEN_KINDS;

const TOKEN_PATTERN = /^alk_(key|adm|scim)_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;
const KIND_OF_PREFIX = Object.fromEntries(Object.entries(TOKEN_KINDS).map(([kind, prefix]) => [prefix, kind])) as Record<string, TokenKind>;

export interface ParsedToken {
  kind: TokenKind;
  id: string;
}

export function parseToken(token: string): ParsedToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  return { kind: KIND_OF_PREFIX[match[1]!]!, id: match[2]! };
}

export interface MintedToken {
  id: string;
  token: string;
  hash: string;
  /** What an admin sees later to recognise the token: never enough to use it. */
  hint: string;
}

export async function mintToken(kind: TokenKind): Promise<MintedToken> {
  const id = ulid();
  const token = `alk_${TOKEN_KINDS[kind]}_${id}_${randomBase64Url(32)}`;
  return { id, token, hash: await sha256Hex(token), hint: `${token.slice(0, 8)}…${token.slice(-4)}` };
}
