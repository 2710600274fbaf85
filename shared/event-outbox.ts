// Events leave an isolate in batches: one `sendBatch` per batch instead of one `send` per
// event, and several events per queue message, because each send and each message costs the
// queue broker and its consumer more than building the event did (measured in the model
// gateway's benchmark). Logpush still gets every event's line at once; only the queue copy
// waits for company.

/** Events per batch at most (the consumer's work per message stays bounded). */
export const MAX_BATCH_EVENTS = 100;
/** Counted as the events' JSON; kept under 256 KiB with room for each message's own overhead. */
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

export interface EventOutbox<T> {
  /**
   * Logs the event's line now and queues the event; pass the promise to the caller's
   * `ctx.waitUntil`. It never rejects. The call that opens a batch owns it: its promise
   * settles once the batch has been sent (or its failure reported), which keeps its request
   * alive until then. Calls that join an open batch get a settled promise: Workers forbid
   * one request to wait on another's I/O ("Cannot perform I/O on behalf of a different
   * request"), so the owner alone sends and waits. The event must not be changed afterwards.
   */
  emit(queue: Queue<T[]>, event: T): Promise<void>;
}

interface Batch<T> {
  queue: Queue<T[]>;
  events: T[];
  /** Each event's JSON size, to pack messages. */
  sizes: number[];
  bytes: number;
}

/** The batch's events as queue messages, each an array of events under MAX_MESSAGE_BYTES (one larger event goes alone). */
function messagesOf<T>(batch: Batch<T>): MessageSendRequest<T[]>[] {
  const messages: MessageSendRequest<T[]>[] = [];
  let body: T[] = [];
  let bytes = 0;
  batch.events.forEach((event, i) => {
    const size = batch.sizes[i]! + 1;
    if (body.length > 0 && bytes + size > MAX_MESSAGE_BYTES) {
      messages.push({ body });
      body = [];
      bytes = 0;
    }
    body.push(event);
    bytes += size;
  });
  if (body.length > 0) messages.push({ body });
  return messages;
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
      await batch.queue.sendBatch(messagesOf(batch));
    } catch (error) {
      // The lines already carry the events; say which ones the audit log will miss.
      console.error(JSON.stringify({
        level: "error", worker, error: "event queue send failed",
        event_uids: batch.events.map((event) => event.metadata.uid),
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
        && batch.events.length < MAX_BATCH_EVENTS && batch.bytes + bytes <= MAX_BATCH_BYTES;
      if (fits) {
        batch.events.push(event);
        batch.sizes.push(bytes);
        batch.bytes += bytes;
        return JOINED;
      }
      const opened: Batch<T> = { queue, events: [event], sizes: [bytes], bytes };
      open = bytes > MAX_MESSAGE_BYTES ? null : opened;
      return send(opened);
    },
  };
}
