import { ProblemError } from "../problem.ts";

/**
 * Cursors are opaque to clients: the base64url of the last id on the page. Ids are
 * ULIDs, so "after this id" is a stable, index-friendly position.
 */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function encodeCursor(lastId: string): string {
  return btoa(lastId).replaceAll("=", "");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  let id: string;
  try {
    id = atob(cursor);
  } catch {
    id = "";
  }
  if (!ULID.test(id)) throw new ProblemError("invalid_request", "`cursor` is not a cursor this API returned");
  return id;
}

/** Given `limit + 1` rows, the page and the cursor of the next one. */
export function toPage<T extends { id: string }, R>(rows: T[], limit: number, serialize: (row: T) => R) {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  return { data: items.map(serialize), next_cursor: hasMore ? encodeCursor(items.at(-1)!.id) : null };
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
