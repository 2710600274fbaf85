import { database, type Db } from "../../../shared/db/index.ts";
import { sha256Hex } from "../../../shared/crypto.ts";
import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import type { Env } from "../env.ts";
import { DESTINATIONS } from "./destinations/index.ts";
import type { OutboundRequest } from "./destinations/types.ts";
import { AlertQueueMessageSchema, typeOf, type AlertQueueMessage, type Notification } from "./notification.ts";
import { allowPrivate, loadOrgDestinations, type LoadedDestination, type OrgDestinations } from "./store.ts";
import { claimOnce, countSend, dedupKey, pruneThrottle, RATE_WINDOW_MS, rateKey, releaseClaim, sendsInWindow } from "./throttle.ts";

const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_DELAY_SECONDS = 15 * 60;

type Outcome = { outcome: "delivered" | "dropped" | "duplicate" | "suppressed" } | { outcome: "retry"; delaySeconds: number };

/** 5 s, 15 s, 45 s … capped at 15 min, ±20 % so a recovering receiver is not hit all at once. */
function backoffSeconds(attempt: number): number {
  const base = Math.min(MAX_DELAY_SECONDS, 5 * 3 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(base * (0.8 + Math.random() * 0.4)));
}

function retryAfterSeconds(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil(seconds))) : undefined;
}

/** One compact JSON line per delivery attempt: ids, kind, status, attempt; never a URL, header or body. */
function log(level: "info" | "warn" | "error", fields: Record<string, unknown>) {
  const line = JSON.stringify({ level, worker: "guardrail", msg: "alert delivery", ...fields });
  if (level === "info") console.log(line);
  else if (level === "warn") console.warn(line);
  else console.error(line);
}

/**
 * The `airlock-alerts` queue consumer. Each message is acked, or retried with backoff when
 * a destination failed in a way a retry can fix (network, timeout, 408, 429, 5xx); after the
 * queue's max_retries it goes to the dead-letter queue. Destinations already served are
 * skipped on a retry by the dedup claim they left.
 */
export async function deliverAlerts(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const db = database(env.DB);
  const orgs = new Map<string, Promise<OrgDestinations>>();
  const destinationsOf = (orgId: string) => {
    let loaded = orgs.get(orgId);
    if (!loaded) orgs.set(orgId, (loaded = loadOrgDestinations(env, orgId)));
    return loaded;
  };

  for (const message of batch.messages) {
    const parsed = AlertQueueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      log("error", { outcome: "dropped", reason: "invalid alert message", message_id: message.id, issues: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) });
      message.ack();
      continue;
    }
    const alert = parsed.data;
    try {
      const org = await destinationsOf(alert.org_id);
      const outcomes = alert.suppressed_window !== undefined
        ? [await deliverSummary(env, db, org, alert, message.attempts)]
        : await Promise.all(
            org.destinations
              .filter((d) => (alert.destination_id ? d.id === alert.destination_id : d.enabled) && alert.severity_id >= d.minSeverity)
              .map((d) => deliverAlert(env, db, org, d, alert, message.attempts)),
          );
      const delays = outcomes.flatMap((o) => (o.outcome === "retry" ? [o.delaySeconds] : []));
      if (delays.length > 0) message.retry({ delaySeconds: Math.max(...delays) });
      else message.ack();
    } catch (error) {
      log("error", { outcome: "retry", reason: error instanceof Error ? error.message : String(error), org_id: alert.org_id, request_id: alert.request_id, attempt: message.attempts });
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    }
  }

  ctx.waitUntil(
    Promise.all(
      [...orgs.keys()].map((orgId) =>
        pruneThrottle(db, orgId, Date.now()).catch((error) => log("warn", { reason: "alert_throttle prune failed", org_id: orgId, detail: String(error) })),
      ),
    ),
  );
}

const eventIdOf = async (...parts: (string | number)[]) => `evt_${(await sha256Hex(parts.join("\n"))).slice(0, 32)}`;

/** Dedup, then the rule's rate limit, then the request. */
async function deliverAlert(env: Env, db: Db, org: OrgDestinations, destination: LoadedDestination, alert: AlertQueueMessage, attempt: number): Promise<Outcome> {
  const orgId = alert.org_id;
  const claim = dedupKey(destination.id, alert.detector, alert.request_id);
  if (!(await claimOnce(db, orgId, claim, alert.time))) return { outcome: "duplicate" };
  try {
    const limit = destination.rateLimitPerMinute;
    const { count, windowStart } = await countSend(db, orgId, rateKey(destination.id, alert.detector, alert.direction), Date.now());
    if (count > limit) {
      // Exactly one alert per window sees limit + 1: it schedules the window's summary for when the window has closed.
      if (count === limit + 1) {
        const delaySeconds = Math.ceil((windowStart + RATE_WINDOW_MS - Date.now()) / 1000) + 1;
        const summary: AlertQueueMessage = { ...alert, destination_id: destination.id, suppressed_window: windowStart };
        await env.ALERTS.send(summary, { delaySeconds });
        log("info", { outcome: "suppressed", org_id: orgId, request_id: alert.request_id, destination_id: destination.id, kind: destination.kind, detector: alert.detector, limit_per_minute: limit, summary_in_seconds: delaySeconds });
      }
      return { outcome: "suppressed" };
    }
    const eventId = await eventIdOf(orgId, destination.id, alert.detector, alert.request_id);
    const outcome = await send(env, destination, { alert, org: { id: orgId, slug: org.slug }, eventId }, attempt);
    if (outcome.outcome === "retry") await releaseClaim(db, orgId, claim, alert.time);
    return outcome;
  } catch (error) {
    await releaseClaim(db, orgId, claim, alert.time).catch(() => undefined);
    throw error;
  }
}

/** "N more alerts suppressed": sent once the window is over, with the final count. */
async function deliverSummary(env: Env, db: Db, org: OrgDestinations, alert: AlertQueueMessage, attempt: number): Promise<Outcome> {
  const windowStart = alert.suppressed_window!;
  const destination = org.destinations.find((d) => d.id === alert.destination_id);
  if (!destination?.enabled) return { outcome: "dropped" };
  const sent = await sendsInWindow(db, alert.org_id, rateKey(destination.id, alert.detector, alert.direction), windowStart);
  const suppressed = sent - destination.rateLimitPerMinute;
  if (suppressed <= 0) return { outcome: "dropped" };
  const eventId = await eventIdOf(alert.org_id, destination.id, alert.detector, alert.direction, "suppressed", windowStart);
  return send(env, destination, {
    alert,
    org: { id: alert.org_id, slug: org.slug },
    eventId,
    suppressed: { count: suppressed, limitPerMinute: destination.rateLimitPerMinute, windowStart, windowEnd: windowStart + RATE_WINDOW_MS },
  }, attempt);
}

async function send(env: Env, destination: LoadedDestination, notification: Notification, attempt: number): Promise<Outcome> {
  const fields = {
    org_id: notification.alert.org_id, request_id: notification.alert.request_id, destination_id: destination.id, kind: destination.kind,
    detector: notification.alert.detector, type: typeOf(notification), event_id: notification.eventId, attempt,
  };
  let request: OutboundRequest;
  try {
    request = await DESTINATIONS[destination.kind].request(notification, await destination.config());
    assertPublicUrl(request.url, { allowPrivate: allowPrivate(env) });
  } catch (error) {
    if (error instanceof UnsafeUrlError) {
      log("error", { ...fields, outcome: "dropped", reason: `destination URL ${error.message}` });
      return { outcome: "dropped" };
    }
    throw error;
  }

  const started = Date.now();
  let response: Response;
  try {
    // Redirects are not followed: the SSRF check covered this URL only.
    response = await fetch(request.url, {
      method: "POST", headers: request.headers, body: request.body, redirect: "manual", signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (error) {
    const delaySeconds = backoffSeconds(attempt);
    const status = error instanceof Error && error.name === "TimeoutError" ? "timeout" : "network_error";
    log("warn", { ...fields, outcome: "retry", status, delay_seconds: delaySeconds, duration_ms: Date.now() - started });
    return { outcome: "retry", delaySeconds };
  }
  await response.body?.cancel();
  const { status } = response;
  const duration_ms = Date.now() - started;
  if (status >= 200 && status < 300) {
    log("info", { ...fields, outcome: "delivered", status, duration_ms });
    return { outcome: "delivered" };
  }
  if (status === 408 || status === 429 || status >= 500) {
    const delaySeconds = retryAfterSeconds(response.headers.get("retry-after")) ?? backoffSeconds(attempt);
    log("warn", { ...fields, outcome: "retry", status, delay_seconds: delaySeconds, duration_ms });
    return { outcome: "retry", delaySeconds };
  }
  // A redirect or a refusal (bad key, unknown channel, invalid payload): a retry would get the same answer.
  log("error", { ...fields, outcome: "dropped", status, duration_ms, reason: status < 400 ? "redirect not followed" : "refused by the destination" });
  return { outcome: "dropped" };
}
