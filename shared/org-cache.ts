/**
 * Per-org values loaded at a config version (every admin write bumps it), kept per isolate: a
 * request holding that version, or an older one, gets what was loaded; a newer version loads
 * again, so an admin write applies on the next request. A failed load is not kept: the next
 * request tries again.
 */
export function orgVersionCache<T>(maxOrgs = 5_000): (orgId: string, version: number, load: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, { version: number; value: Promise<T> }>();
  return (orgId, version, load) => {
    const hit = entries.get(orgId);
    if (hit && hit.version >= version) return hit.value;
    const entry = { version, value: load() };
    if (entries.size >= maxOrgs) entries.clear();
    entries.set(orgId, entry);
    entry.value.catch(() => entries.get(orgId) === entry && entries.delete(orgId));
    return entry.value;
  };
}
