// Events leave an isolate in batches: one `sendBatch` per batch instead of one `send` per
// event, and several events per queue message, because each send and each message costs the
// queue broker and its consumer more than building the event did (measured in the model
// gateway's benchmark). Events are built, logged (Logpush) and sent when their batch goes,
// after the answers they describe: a caller may hand over a builder instead of an event.

import { createBatcher } from "./batcher.ts";

/** Events per batch at most (the consumer's work per message stays bounded). */
export const MAX_BATCH_EVENTS = 100;
/** One `sendBatch`, counted as the events' JSON: under Queues' 256 KiB with room for each message's own overhead. */
export const MAX_BATCH_BYTES = 240 * 1024;
/** Queues refuses a message over 128 KB: messages are packed under it, and a larger event goes alone, so only it is lost. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/**
 * How long the first event of a batch waits for others (a full batch waits too: it is sent
 * by the request that opened it, see below). 50 ms gathers about sixteen events
 * at 320 events/s and five at 100 (the model-gateway bench at c1 sends 5–10 per batch), while
 * the consumer's own batch window (1 s) dwarfs it, so the audit log is not noticeably later.
 * Waiting costs no CPU and no response time: it only holds the first caller's waitUntil open.
 */
export const FLUSH_DELAY_MS = 50;
/** Events built between two yields to the event loop. */
const BUILD_SLICE = 4;

export interface EventOutbox<T> {
  /**
   * Queues an event, or a function that builds it (called when the batch goes, so building
   * costs the caller nothing now); its line is logged when the batch goes. Pass the promise to
   * the caller's `ctx.waitUntil`; it never rejects. The call that opens a batch owns it: its
   * promise settles once the batch has been sent (or its failure reported); calls that join
   * an open batch get a settled promise (shared/batcher.ts). The event must not be changed afterwards.
   */
  emit(queue: Queue<T[]>, event: T | (() => T)): Promise<void>;
}

interface Built<T> {
  event: T;
  bytes: number;
}

const utf8 = new TextEncoder();
// The line is ASCII unless a value is not: only then is encoding needed to count its bytes.
const byteLength = (line: string) => (/^[\x00-\x7f]*$/.test(line) ? line.length : utf8.encode(line).byteLength);

/** Splits built events into `sendBatch` calls under MAX_BATCH_BYTES, each of messages under MAX_MESSAGE_BYTES. */
export function packBatches<T>(built: Built<T>[]): T[][][] {
  const batches: T[][][] = [];
  let messages: T[][] = [];
  let message: T[] = [];
  let batchBytes = 0;
  let messageBytes = 0;
  const closeMessage = () => {
    if (message.length > 0) messages.push(message);
    message = [];
    messageBytes = 0;
  };
  const closeBatch = () => {
    closeMessage();
    if (messages.length > 0) batches.push(messages);
    messages = [];
    batchBytes = 0;
  };
  for (const { event, bytes } of built) {
    const size = bytes + 1;
    // An event too large for a message goes in a batch of its own, so its refusal costs no other event.
    const alone = size > MAX_MESSAGE_BYTES;
    if (alone || batchBytes + size > MAX_BATCH_BYTES) closeBatch();
    if (messageBytes + size > MAX_MESSAGE_BYTES) closeMessage();
    message.push(event);
    messageBytes += size;
    batchBytes += size;
    if (alone) closeBatch();
  }
  closeBatch();
  return batches;
}

/** One outbox per queue binding per isolate (module scope); `worker` names the sender in error lines. */
export function createEventOutbox<T extends { metadata: { uid: string } }>(worker: string, delayMs = FLUSH_DELAY_MS): EventOutbox<T> {
  async function build(items: (T | (() => T))[]): Promise<Built<T>[]> {
    const built: Built<T>[] = [];
    for (const [i, item] of items.entries()) {
      // The isolate's thread is shared with the requests it serves: a request that arrives while
      // a batch is built waits a few events' worth, not the whole batch's.
      if (i > 0 && i % BUILD_SLICE === 0) await scheduler.wait(0);
      try {
        const event = typeof item === "function" ? (item as () => T)() : item;
        const line = JSON.stringify(event);
        console.log(line);
        built.push({ event, bytes: byteLength(line) });
      } catch (error) {
        console.error(JSON.stringify({ level: "error", worker, error: "building an event failed", detail: error instanceof Error ? error.message : String(error) }));
      }
    }
    return built;
  }

  // Keyed by the queue binding: another binding object (a test's own env) gets a batch of its own.
  const add = createBatcher<T | (() => T), Queue<T[]>>({
    delayMs,
    maxItems: MAX_BATCH_EVENTS,
    async flush(items, queue) {
      for (const messages of packBatches(await build(items))) {
        try {
          await queue.sendBatch(messages.map((body) => ({ body })));
        } catch (error) {
          // The lines already carry the events; say which ones the audit log will miss.
          console.error(JSON.stringify({
            level: "error", worker, error: "event queue send failed",
            event_uids: messages.flat().map((event) => event.metadata.uid),
            detail: error instanceof Error ? error.message : String(error),
          }));
        }
      }
    },
  });

  return { emit: (queue, event) => add(event, queue) };
}
