import { createBatcher } from "../../../shared/batcher.ts";
import type { AuthRpc, SettleInput } from "../../../shared/rpc.ts";

const add = createBatcher<SettleInput, Pick<AuthRpc, "settleMany">>({
  delayMs: 50,
  maxItems: 100,
  flush: (batch, auth) =>
    auth.settleMany(batch).catch((error: unknown) =>
      console.error(JSON.stringify({ level: "error", worker: "router", error: "settling reservations failed", request_ids: batch.map((s) => s.request_id), detail: String(error) })),
    ),
});

/**
 * Settlements leave the router in batches, one `AUTH.settleMany()` per 50 ms (a hold lasts
 * that much longer, never shorter): an RPC per call, after its answer, was among the router's
 * largest costs. Pass the promise to the request's waitUntil (shared/batcher.ts says why only
 * the call that opens a batch waits for it).
 */
export function settleLater(auth: Pick<AuthRpc, "settleMany">, input: SettleInput): Promise<void> {
  return add(input, auth);
}
