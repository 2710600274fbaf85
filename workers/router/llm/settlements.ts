import type { AuthRpc, SettleInput } from "../../../shared/rpc.ts";

/** How long the first settlement of a batch waits for others; a hold lasts that much longer, never shorter. */
const GATHER_MS = 50;
const MAX_BATCH = 100;
const JOINED = Promise.resolve();

let open: SettleInput[] | null = null;

/**
 * Settlements leave the router in batches, one `AUTH.settleMany()` per batch: an RPC per call,
 * after its answer, was among the router's largest costs. The call that opens a batch sends it
 * and its promise (for its waitUntil) settles then; calls that join get a settled promise,
 * because Workers forbid one request to wait on another's I/O.
 */
export function settleLater(auth: Pick<AuthRpc, "settleMany">, input: SettleInput): Promise<void> {
  if (open !== null && open.length < MAX_BATCH) {
    open.push(input);
    return JOINED;
  }
  const batch = [input];
  open = batch;
  return (async () => {
    await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
    if (open === batch) open = null;
    await auth.settleMany(batch).catch((error: unknown) =>
      console.error(JSON.stringify({ level: "error", worker: "router", error: "settling reservations failed", request_ids: batch.map((s) => s.request_id), detail: String(error) })),
    );
  })();
}
