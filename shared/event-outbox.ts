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
 * How long the first event of a batch waits for others. 50 ms gathers about sixteen events
 * at 320 events/s and five at 100 (the model-gateway bench at c1 sends 5–10 per batch), while
 * the consumer's own batch window (1 s) dwarfs it, so the audit log is not noticeably later.
 * Waiting costs no CPU and no response time: it only holds the first caller's waitUntil open.
 */
export const FLUSH_DELAY_MS = 50;

export interface EventOutbox<T> {
  /**
   * Logs the event's line now and queues the event; the promise settles once the batch
   * holding it has been sent (or its failure reported), never rejecting: pass it to the
   * caller's `ctx.waitUntil` so the isolate stays alive until then. The event must not be
   * changed afterwards (it is serialised when the batch goes).
   */
  emit(queue: Queue<T>, event: T): Promise<void>;
}

interface Batch<T> {
  queue: Queue<T>;
  messages: MessageSendRequest<T>[];
  bytes: number;
  sent: PromiseWithResolvers<void>;
}

const utf8 = new TextEncoder();
// The line is ASCII unless a value is not: only then is encoding needed to count its bytes.
const byteLength = (line: string) => (/^[\x00-\x7f]*$/.test(line) ? line.length : utf8.encode(line).byteLength);

/** One outbox per queue binding per isolate (module scope); `worker` names the sender in error lines. */
export function createEventOutbox<T extends { metadata: { uid: string } }>(worker: string, delayMs = FLUSH_DELAY_MS): EventOutbox<T> {
  let open: Batch<T> | null = null;

  function flush(): void {
    const batch = open;
    if (!batch) return;
    open = null;
    new Promise((resolve) => resolve(batch.queue.sendBatch(batch.messages))).then(
      () => batch.sent.resolve(),
      (error: unknown) => {
        // The lines already carry the events; say which ones the audit log will miss.
        console.error(JSON.stringify({
          level: "error", worker, error: "event queue send failed",
          event_uids: batch.messages.map((m) => m.body.metadata.uid),
          detail: error instanceof Error ? error.message : String(error),
        }));
        batch.sent.resolve();
      },
    );
  }

  return {
    emit(queue, event) {
      const line = JSON.stringify(event);
      console.log(line);
      const bytes = byteLength(line);
      const alone = bytes > MAX_MESSAGE_BYTES;
      // Another binding object (a test's own env) starts a batch of its own.
      if (open && (alone || open.queue !== queue || open.bytes + bytes > MAX_BATCH_BYTES)) flush();
      let batch = open;
      if (!batch) {
        const started: Batch<T> = { queue, messages: [], bytes: 0, sent: Promise.withResolvers<void>() };
        // A batch sent early (full) leaves its timer nothing to do.
        setTimeout(() => open === started && flush(), delayMs);
        batch = open = started;
      }
      batch.messages.push({ body: event });
      batch.bytes += bytes;
      if (alone || batch.messages.length >= MAX_BATCH_MESSAGES) flush();
      return batch.sent.promise;
    },
  };
}
