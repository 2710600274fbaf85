import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SettleInput } from "../../../shared/rpc.ts";
import { settleLater } from "./settlements.ts";

const input = (i: number): SettleInput => ({ org_id: "org", request_id: `req-${i}`, tokens: i, cost_micros: i });

describe("settleLater", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("sends the settlements of calls that end together in one settleMany, from the call that opened the batch", async () => {
    const calls: SettleInput[][] = [];
    const auth = { settleMany: async (inputs: SettleInput[]) => void calls.push(inputs) };
    let openerDone = false;
    const opener = settleLater(auth, input(1)).then(() => (openerDone = true));
    await settleLater(auth, input(2));
    await settleLater(auth, input(3));
    expect(calls).toHaveLength(0);
    expect(openerDone).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    await opener;
    expect(calls).toEqual([[input(1), input(2), input(3)]]);
    await Promise.all([settleLater(auth, input(4)), vi.advanceTimersByTimeAsync(50)]);
    expect(calls).toEqual([[input(1), input(2), input(3)], [input(4)]]);
  });

  it("reports a failed batch by its request ids and never rejects", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const auth = { settleMany: () => Promise.reject(new Error("auth unavailable")) };
    const sent = settleLater(auth, input(5));
    await vi.advanceTimersByTimeAsync(50);
    await expect(sent).resolves.toBeUndefined();
    expect(JSON.parse(error.mock.calls[0]![0] as string)).toMatchObject({ error: "settling reservations failed", request_ids: ["req-5"] });
  });
});
