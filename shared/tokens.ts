import { ulid } from "ulid";
import { randomBase64Url, sha256Hex } from "./crypto.ts";

/**
 * Airlock credentials are `alk_<kind>_<id>_<secret>`: the id finds the row without a
 * scan and says which credential an admin is looking at; the secret (256 bits) is
 * stored only as the SHA-256 of the whole token. The fixed prefix lets secret scanners
 * (GitHub's, Airlock's own guardrail) recognise a leaked token.
 */
export const TOKEN_KINDS = { api_key: "key", admin_token: "adm" } as const;
export type TokenKind = keyof typeof TOKEN_KINDS;

const TOKEN_PATTERN = /^alk_(key|adm)_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

export interface ParsedToken {
  kind: TokenKind;
  id: string;
}

export function parseToken(token: string): ParsedToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const kind = match[1] === "key" ? "api_key" : "admin_token";
  return { kind, id: match[2]! };
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
