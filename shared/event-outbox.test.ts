import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEventOutbox, FLUSH_DELAY_MS, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_MESSAGE_BYTES } from "./event-outbox.ts";

interface Ev {
  metadata: { uid: string };
  pad?: string;
}
const ev = (i: number, pad?: string): Ev => ({ metadata: { uid: `ev-${i}` }, ...(pad ? { pad } : {}) });

/** Records each `sendBatch`; each call's answer is released by the test (or at once). */
function fakeQueue(options: { fail?: boolean; hold?: boolean } = {}) {
  /** Each sendBatch's events, in order, and its messages (each an array of events). */
  const batches: Ev[][] = [];
  const messages: Ev[][][] = [];
  const release: (() => void)[] = [];
  const queue = {
    sendBatch(sent: Iterable<MessageSendRequest<Ev[]>>) {
      messages.push([...sent].map((m) => m.body));
      batches.push(messages.at(-1)!.flat());
      if (options.fail) return Promise.reject(new Error("queue unavailable"));
      if (!options.hold) return Promise.resolve({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } });
      return new Promise((resolve) => release.push(() => resolve({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } })));
    },
    send: () => Promise.reject(new Error("the outbox sends batches only")),
    metrics: () => Promise.reject(new Error("unused")),
  };
  return { queue: queue as unknown as Queue<Ev[]>, batches, messages, release };
}

const uids = (batch: Ev[] | undefined) => batch?.map((e) => e.metadata.uid);
/** Whether a promise has settled, without waiting for it. */
const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
};

describe("createEventOutbox", () => {
  let log: ReturnType<typeof vi.fn>;
  let error: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    vi.useFakeTimers();
    log = vi.spyOn(console, "log").mockImplementation(() => undefined) as unknown as typeof log;
    error = vi.spyOn(console, "error").mockImplementation(() => undefined) as unknown as typeof error;
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("logs and sends the events together, in one message, when the batch goes after the delay", async () => {
    const { queue, batches, messages } = fakeQueue();
    const outbox = createEventOutbox<Ev>("test");
    const sent = [0, 1, 2].map((i) => outbox.emit(queue, ev(i)));
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS - 1);
    expect(batches).toHaveLength(0);
    expect(log).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(sent);
    expect(log.mock.calls.map(([line]) => line)).toEqual([0, 1, 2].map((i) => JSON.stringify(ev(i))));
    expect(batches.map(uids)).toEqual([["ev-0", "ev-1", "ev-2"]]);
    expect(messages[0]!.map(uids)).toEqual([["ev-0", "ev-1", "ev-2"]]);
  });

  it("builds an event handed over as a function only when its batch goes", async () => {
    const { queue, batches } = fakeQueue();
    const outbox = createEventOutbox<Ev>("test");
    const builder = vi.fn(() => ev(7));
    const sent = outbox.emit(queue, builder);
    expect(builder).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    await sent;
    expect(builder).toHaveBeenCalledTimes(1);
    expect(batches.map(uids)).toEqual([["ev-7"]]);
  });

  it("takes at most 100 events in a batch, each batch sent by the call that opened it", async () => {
    const { queue, batches } = fakeQueue();
    const outbox = createEventOutbox<Ev>("test");
    const sent = Array.from({ length: 2 * MAX_BATCH_EVENTS + 5 }, (_, i) => outbox.emit(queue, ev(i)));
    // Joiners do not wait on another request's I/O; the openers (0, 100, 200) do.
    expect(await settled(sent[1]!)).toBe(true);
    expect(await settled(sent[0]!)).toBe(false);
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    await Promise.all(sent);
    // Each batch is a run of events in the order they came; batches built at once may leave in any order.
    const emitted = Array.from({ length: 2 * MAX_BATCH_EVENTS + 5 }, (_, i) => `ev-${i}`);
    expect(batches.map((b) => b.length).sort((a, b) => a - b)).toEqual([5, MAX_BATCH_EVENTS, MAX_BATCH_EVENTS]);
    for (const batch of batches) {
      const start = emitted.indexOf(batch[0]!.metadata.uid);
      expect(uids(batch)).toEqual(emitted.slice(start, start + batch.length));
    }
    expect(batches.flat().map((e) => e.metadata.uid).sort()).toEqual([...emitted].sort());
  });

  it("splits a batch whose JSON passes the limits: sends under 240 KB, messages under 128 KB", async () => {
    const { queue, batches, messages } = fakeQueue();
    const outbox = createEventOutbox<Ev>("test");
    const pad = "x".repeat(100 * 1024);
    // The last is 100 KB of UTF-8 in 50 K characters.
    const sent = [0, 1, 2, 3, 4].map((i) => outbox.emit(queue, ev(i, i === 4 ? "é".repeat(50 * 1024) : pad)));
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    await Promise.all(sent);
    expect(batches.map(uids)).toEqual([["ev-0", "ev-1"], ["ev-2", "ev-3"], ["ev-4"]]);
    const bytesOf = (events: Ev[]) => events.reduce((sum, e) => sum + new TextEncoder().encode(JSON.stringify(e)).byteLength, 0);
    for (const batch of batches) expect(bytesOf(batch)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    for (const message of messages.flat()) expect(bytesOf(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it("sends an event too large for one message on its own, so its refusal costs no other event", async () => {
    const { queue, batches } = fakeQueue();
    const outbox = createEventOutbox<Ev>("test");
    const sent = [outbox.emit(queue, ev(0)), outbox.emit(queue, ev(1, "x".repeat(MAX_MESSAGE_BYTES))), outbox.emit(queue, ev(2))];
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    await Promise.all(sent);
    expect(batches.map(uids)).toEqual([["ev-0"], ["ev-1"], ["ev-2"]]);
  });

  it("settles the opener's promise only once its batch is sent; a later event opens the next batch", async () => {
    const { queue, batches, release } = fakeQueue({ hold: true });
    const outbox = createEventOutbox<Ev>("test");
    const first = outbox.emit(queue, ev(1));
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    const second = outbox.emit(queue, ev(2));
    expect(batches.map(uids)).toEqual([["ev-1"]]);
    expect(await settled(first)).toBe(false);
    release[0]!();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(false);
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    release[1]!();
    expect(await settled(second)).toBe(true);
    expect(batches.map(uids)).toEqual([["ev-1"], ["ev-2"]]);
  });

  it("keeps the batches of two queues apart", async () => {
    const a = fakeQueue();
    const b = fakeQueue();
    const outbox = createEventOutbox<Ev>("test");
    const sent = [outbox.emit(a.queue, ev(1)), outbox.emit(b.queue, ev(2)), outbox.emit(b.queue, ev(3))];
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    await Promise.all(sent);
    expect(a.batches.map(uids)).toEqual([["ev-1"]]);
    expect(b.batches.map(uids)).toEqual([["ev-2", "ev-3"]]);
  });

  it("reports a failed batch once, by its events' uids, and never rejects", async () => {
    const { queue } = fakeQueue({ fail: true });
    const outbox = createEventOutbox<Ev>("test");
    const sent = [outbox.emit(queue, ev(1, "secret-looking content")), outbox.emit(queue, ev(2))];
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    await expect(Promise.all(sent)).resolves.toEqual([undefined, undefined]);
    const lines = error.mock.calls.map(([line]) => line as string);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: "error", worker: "test", error: "event queue send failed", event_uids: ["ev-1", "ev-2"], detail: "queue unavailable",
    });
    expect(lines[0]).not.toContain("secret-looking");
  });

  it("reports a builder that throws and still sends the batch's other events", async () => {
    const { queue, batches } = fakeQueue();
    const outbox = createEventOutbox<Ev>("test");
    const sent = [outbox.emit(queue, () => { throw new Error("no principal"); }), outbox.emit(queue, ev(2))];
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS);
    await Promise.all(sent);
    expect(batches.map(uids)).toEqual([["ev-2"]]);
    expect(JSON.parse(error.mock.calls[0]![0] as string)).toMatchObject({ error: "building an event failed", detail: "no principal" });
  });
});
