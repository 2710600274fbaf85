import type { Context } from "hono";
import { createEventOutbox } from "../../shared/event-outbox.ts";
import type { AirlockEvent } from "../../shared/events.ts";
import { REASON_HEADER } from "../../shared/rpc.ts";
import type { RouterEnv } from "./context.ts";
import type { Env } from "./env.ts";

const outbox = createEventOutbox<AirlockEvent>("router");

/**
 * One compact JSON line per event (Logpush ships it to the SIEM) and the same event to
 * the queue (audit log, metrics), batched with the isolate's other events. A failed queue
 * send is reported, never thrown: the response has already gone and the log line still
 * carries the event.
 */
export function emitEvent(env: Env, event: AirlockEvent): Promise<void> {
  return outbox.emit(env.EVENTS, event);
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
