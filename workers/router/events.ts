import type { Context } from "hono";
import type { AirlockEvent } from "../../shared/events.ts";
import { REASON_HEADER } from "../../shared/rpc.ts";
import type { RouterEnv } from "./context.ts";
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

/**
 * Takes a Worker's refusal code off its response (REASON_HEADER) for this request's event:
 * a refusal the protocol answers with a redirect (OAuth, SSO) is still recorded as one.
 */
export function adoptReason(c: Context<RouterEnv>, response: Response): Response {
  const reason = response.headers.get(REASON_HEADER);
  if (!reason) return response;
  c.set("reason", reason);
  const out = new Response(response.body, response);
  out.headers.delete(REASON_HEADER);
  return out;
}
