// Events leave an isolate in batches: one `sendBatch` per batch instead of one `send` per
// event, because each send is a round trip to the queue broker, and under load those round
// trips (in the Worker and in the broker) cost more than building the events. Logpush still
// gets every event's line at once; only the queue copy waits for company.

/** Queues' limits for one `sendBatch`: 100 messages and 256 KB in all. */
export const MAX_BATCH_MESSAGES = 100;
/** Counted as the events' JSON; kept under 256 KiB with room for each message's own overhead. */
export const MAX_BATCH_BYTES = 240 * 1024;
/** Queues refuses a message over 128 KB: such an event goes in a batch of its own, so only it is lost. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/**
 * How long the first event of a batch waits for others (a full batch waits too: it is sent
 * by the request that opened it, see below). 50 ms gathers about sixteen events
 * at 320 events/s and five at 100 (the model-gateway bench at c1 sends 5–10 per batch), while
 * the consumer's own batch window (1 s) dwarfs it, so the audit log is not noticeably later.
 * Waiting costs no CPU and no response time: it only holds the first caller's waitUntil open.
 */
export const FLUSH_DELAY_MS = 50;

export interface EventOutbox<T> {
  /**
   * Logs the event's line now and queues the event; pass the promise to the caller's
   * `ctx.waitUntil`. It never rejects. The call that opens a batch owns it: its promise
   * settles once the batch has been sent (or its failure reported), which keeps its request
   * alive until then. Calls that join an open batch get a settled promise: Workers forbid
   * one request to wait on another's I/O ("Cannot perform I/O on behalf of a different
   * request"), so the owner alone sends and waits. The event must not be changed afterwards.
   */
  emit(queue: Queue<T>, event: T): Promise<void>;
}

interface Batch<T> {
  queue: Queue<T>;
  messages: MessageSendRequest<T>[];
  bytes: number;
}

const utf8 = new TextEncoder();
// The line is ASCII unless a value is not: only then is encoding needed to count its bytes.
const byteLength = (line: string) => (/^[\x00-\x7f]*$/.test(line) ? line.length : utf8.encode(line).byteLength);
const JOINED = Promise.resolve();

/** One outbox per queue binding per isolate (module scope); `worker` names the sender in error lines. */
export function createEventOutbox<T extends { metadata: { uid: string } }>(worker: string, delayMs = FLUSH_DELAY_MS): EventOutbox<T> {
  let open: Batch<T> | null = null;

  async function send(batch: Batch<T>): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (open === batch) open = null;
    try {
      await batch.queue.sendBatch(batch.messages);
    } catch (error) {
      // The lines already carry the events; say which ones the audit log will miss.
      console.error(JSON.stringify({
        level: "error", worker, error: "event queue send failed",
        event_uids: batch.messages.map((m) => m.body.metadata.uid),
        detail: error instanceof Error ? error.message : String(error),
      }));
    }
  }

  return {
    emit(queue, event) {
      const line = JSON.stringify(event);
      console.log(line);
      const bytes = byteLength(line);
      const batch = open;
      // A batch takes no more once full; an event too large to share a message budget goes alone,
      // so its refusal costs no other event; another binding object (a test's own env) gets its own.
      const fits = batch !== null && batch.queue === queue && bytes <= MAX_MESSAGE_BYTES
        && batch.messages.length < MAX_BATCH_MESSAGES && batch.bytes + bytes <= MAX_BATCH_BYTES;
      if (fits) {
        batch.messages.push({ body: event });
        batch.bytes += bytes;
        return JOINED;
      }
      const opened: Batch<T> = { queue, messages: [{ body: event }], bytes };
      open = bytes > MAX_MESSAGE_BYTES ? null : opened;
      return send(opened);
    },
  };
}
