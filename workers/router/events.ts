import type { AirlockEvent } from "../../shared/events.ts";
import type { Env } from "./env.ts";

/**
 * One compact JSON line per event (Logpush ships it to the SIEM) and the same event to
 * the queue (audit log, metrics). A failed queue send is reported, never thrown: the
 * response has already gone and the log line still carries the event.
 */
export function emitEvent(env: Env, event: AirlockEvent): Promise<void> {
  console.log(JSON.stringify(event));
  return env.EVENTS.send(event).then(
    () => undefined,
    (error: unknown) => {
    console.error(JSON.stringify({
      level: "error", worker: "router", error: "event queue send failed",
      event_uid: event.metadata.uid, detail: error instanceof Error ? error.message : String(error),
    }));
    },
  );
}
