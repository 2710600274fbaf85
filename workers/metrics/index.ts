import { WorkerEntrypoint } from "cloudflare:workers";
import type { ApiContext, Health, MetricsRpc } from "../../shared/rpc.ts";
import { api } from "./audit-api.ts";
import { auditAppender, parseEvent } from "./audit-writer.ts";
import type { Env } from "./env.ts";

export class MetricsService extends WorkerEntrypoint<Env> implements MetricsRpc {
  async health(): Promise<Health> {
    await this.env.DB.prepare("SELECT 1").first();
    return { worker: "metrics", ok: true };
  }

  api(request: Request, context: ApiContext): Promise<Response> {
    return Promise.resolve(api.fetch(request, { env: this.env, context }));
  }
}

export default {
  fetch: () => new Response("airlock-metrics is reached through airlock-router", { status: 404 }),

  /**
   * `airlock-events` → audit log. An event that is not one is acknowledged and reported
   * (retrying cannot fix it); a D1 failure retries the whole batch, and after
   * the configured retries the queue moves it to the dead-letter queue, so nothing
   * accepted is lost.
   */
  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    // Events are parsed and written a statement at a time, not the whole batch first: see MAX_STATEMENT_JSON.
    const audit = auditAppender(env.DB);
    try {
      for (const message of batch.messages) {
        // A message holds the events one isolate emitted together (shared/event-outbox.ts); one sent before that is a single event.
        for (const body of Array.isArray(message.body) ? message.body : [message.body]) {
          const parsed = parseEvent(body);
          if (parsed.ok) await audit.append(parsed.event);
          else console.error(JSON.stringify({ level: "error", worker: "metrics", message_id: message.id, error: "not an Airlock event", issues: parsed.issues }));
        }
      }
      await audit.flush();
      batch.ackAll();
    } catch (error) {
      console.error(JSON.stringify({ level: "error", worker: "metrics", error: "audit append failed; retrying batch", detail: error instanceof Error ? error.message : String(error), messages: batch.messages.length }));
      batch.retryAll({ delaySeconds: 2 });
    }
  },
} satisfies ExportedHandler<Env, unknown>;
