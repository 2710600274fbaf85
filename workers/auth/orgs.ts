import { eq } from "drizzle-orm";
import { schema, type Db } from "../../shared/db/index.ts";
import type { Org } from "../../shared/principal.ts";

/**
 * Slug → org, per isolate. Orgs are created rarely and never renamed, so a hit is kept;
 * a miss is remembered briefly so a flood of requests for an unknown host does not
 * become a flood of D1 reads.
 */
const UNKNOWN_TTL_MS = 5_000;
const known = new Map<string, Org>();
const unknown = new Map<string, number>();

export async function resolveOrg(db: Db, slug: string): Promise<Org | null> {
  const hit = known.get(slug);
  if (hit) return hit;
  const missUntil = unknown.get(slug);
  if (missUntil && missUntil > Date.now()) return null;

  const row = await db.query.orgs.findFirst({ where: eq(schema.orgs.slug, slug) });
  if (!row) {
    if (unknown.size > 10_000) unknown.clear();
    unknown.set(slug, Date.now() + UNKNOWN_TTL_MS);
    return null;
  }
  const org = { id: row.id, slug: row.slug, name: row.name };
  known.set(slug, org);
  return org;
}

/** Called when this isolate creates an org, so it answers at once. */
export function forgetUnknownOrg(slug: string): void {
  unknown.delete(slug);
}
