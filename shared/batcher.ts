/**
 * Gathers items for `delayMs` (or until `maxItems`) and hands each batch to `flush`. The call
 * that opens a batch owns it: its promise settles once `flush` has run, so passing it to that
 * request's `ctx.waitUntil` keeps the isolate alive until then. Calls that join get a settled
 * promise, because Workers forbid one request to wait on another's I/O ("Cannot perform I/O on
 * behalf of a different request"). Items with another `key` (another binding object) start a
 * batch of their own. `flush` must not reject: it reports its own failures.
 */
export function createBatcher<T, K = undefined>(options: { delayMs: number; maxItems: number; flush: (items: T[], key: K) => Promise<void> }) {
  let open: { key: K; items: T[] } | null = null;
  const joined = Promise.resolve();

  async function send(batch: { key: K; items: T[] }): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (open === batch) open = null;
    await options.flush(batch.items, batch.key);
  }

  return (item: T, key?: K): Promise<void> => {
    const batch = open;
    if (batch !== null && batch.key === key && batch.items.length < options.maxItems) {
      batch.items.push(item);
      return joined;
    }
    const opened = { key: key as K, items: [item] };
    open = opened;
    return send(opened);
  };
}
