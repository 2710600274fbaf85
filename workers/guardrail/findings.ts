import { createEventOutbox } from "../../shared/event-outbox.ts";
import { detectionFindingEvent, severityOfAction, type AirlockEvent } from "../../shared/events.ts";
import type { AlertMessage, Direction, InspectResult } from "../../shared/guardrail.ts";
import type { AlertActor } from "../../shared/rpc.ts";
import type { Env } from "./env.ts";

const outbox = createEventOutbox<AirlockEvent>("guardrail");

/** More findings than this in one inspection are counted, not each sent as an event. */
const MAX_EVENTS_PER_INSPECTION = 50;

/**
 * Off the critical path: one Detection Finding event per finding (log line + queue, in the
 * isolate's event batches), and an alert for every finding whose action is `alert` or `block`.
 */
export async function recordFindings(env: Env, orgId: string, requestId: string, direction: Direction, result: InspectResult, actor?: AlertActor) {
  if (result.findings.length === 0) return;
  const time = Date.now();
  const reported = result.findings.slice(0, MAX_EVENTS_PER_INSPECTION);
  const events = reported.map((finding) => detectionFindingEvent({ requestId, time, orgId, direction, finding, ...(actor ? { actor } : {}) }));
  if (result.findings.length > reported.length) {
    (events.at(-1)!.airlock as Record<string, unknown>).more_findings = result.findings.length - reported.length;
  }
  const sent = events.map((event) => outbox.emit(env.EVENTS, event));

  const alerts: AlertMessage[] = result.findings
    .filter((f) => f.action === "alert" || f.action === "block")
    .map((f) => ({
      org_id: orgId, request_id: requestId, time, direction, action: f.action, detector: f.detector, category: f.category,
      score: f.score, severity_id: severityOfAction(f.action),
      location: { ...(f.path !== undefined ? { path: f.path } : {}), start: f.start, end: f.end },
      actor: actor ?? { user_id: null, email: null, client: null },
    }));

  if (alerts.length > 0) {
    await env.ALERTS.sendBatch(alerts.map((body) => ({ body }))).catch((error: unknown) =>
      console.error(JSON.stringify({ level: "error", worker: "guardrail", error: "alert queue send failed", request_id: requestId, detail: String(error) })),
    );
  }
  await Promise.all(sent);
}
