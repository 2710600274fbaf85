/**
 * Reads that give up once the source has sent nothing for `ms` while a read waited on it (a
 * slow consumer that is not reading is never counted as a silent source). One watchdog timer
 * per stream, re-armed only when it fires, instead of a timer and a race per read: in workerd a
 * timer per read cost more than handling the chunk it read. A stall cancels the source, which
 * ends the pending read (or fails it); that read, and any after it, answer null.
 */
export interface IdleReader<T> {
  read(): Promise<ReadableStreamReadResult<T> | null>;
  /** Ends the watch (the stream is done with, or read without a bound from here on). */
  stop(): void;
}

export function idleReader<T>(reader: ReadableStreamDefaultReader<T>, ms: number): IdleReader<T> {
  /** When the pending read began; null while none is pending. */
  let since: number | null = null;
  let stalled = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const watch = () => {
    timer = null;
    // Nothing is waiting: the next read arms the watch again.
    if (since === null || stopped) return;
    const waited = Date.now() - since;
    if (waited < ms) {
      timer = setTimeout(watch, ms - waited);
      return;
    }
    stalled = true;
    reader.cancel(`nothing arrived for ${ms} ms`).catch(() => undefined);
  };
  return {
    async read() {
      if (stalled) return null;
      since = Date.now();
      if (timer === null && !stopped) timer = setTimeout(watch, ms);
      try {
        const result = await reader.read();
        return stalled ? null : result;
      } catch (error) {
        // Some sources fail the pending read when cancelled, rather than end it.
        if (stalled) return null;
        throw error;
      } finally {
        since = null;
      }
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
