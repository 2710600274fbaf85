import { WorkerEntrypoint } from "cloudflare:workers";
import { apiApp } from "../../shared/api/app.ts";
import { InspectInputSchema, type InspectInput, type InspectResult } from "../../shared/guardrail.ts";
import type { AlertActor, ApiContext, GuardrailRpc, Health, StreamScanInput } from "../../shared/rpc.ts";
import { registerAlertDestinations } from "./alerts/api.ts";
import { deliverAlerts } from "./alerts/consumer.ts";
import { adminApp } from "./api/app.ts";
import { registerCustomDetectors } from "./api/custom-detectors.ts";
import { registerRules } from "./api/rules.ts";
import { registerScan } from "./api/scan.ts";
import { registerSettings } from "./api/settings.ts";
import type { Env } from "./env.ts";
import { recordFindings } from "./findings.ts";
import { runInspection } from "./inspect/run.ts";
import { scanStream } from "./stream/scanner.ts";

const admin = adminApp();
registerScan(admin);
registerRules(admin);
registerSettings(admin);
registerCustomDetectors(admin);
registerAlertDestinations(admin);
const api = apiApp<Env>();
api.route("/", admin);

export class GuardrailService extends WorkerEntrypoint<Env> implements GuardrailRpc {
  async health(): Promise<Health> {
    await this.env.DB.prepare("SELECT 1").first();
    return { worker: "guardrail", ok: true };
  }

  async inspect(input: InspectInput, actor?: AlertActor): Promise<InspectResult> {
    const parsed = InspectInputSchema.safeParse(input);
    if (!parsed.success) {
      return { action: "block", findings: [], error: { code: "invalid_input", message: parsed.error.issues.map((i) => i.message).join("; ") } };
    }
    const { org_id, config_version, request_id, direction, text, messages, json } = parsed.data;
    const result = await runInspection(this.env, { orgId: org_id, configVersion: config_version, direction, content: { text, messages, json } });
    this.ctx.waitUntil(recordFindings(this.env, org_id, request_id, direction, result, actor));
    return result;
  }

  async scanStream(stream: ReadableStream<Uint8Array>, input: StreamScanInput): Promise<ReadableStream<Uint8Array>> {
    return scanStream(this.env, this.ctx, stream, input);
  }

  api(request: Request, context: ApiContext): Promise<Response> {
    return Promise.resolve(api.fetch(request, { env: this.env, context }, this.ctx));
  }
}

export default {
  fetch: () => new Response("airlock-guardrail is reached through airlock-router", { status: 404 }),
  /** `airlock-alerts` → the org's destinations (dedup, rate limits, retries, DLQ). */
  queue: (batch, env, ctx) => deliverAlerts(batch, env, ctx),
} satisfies ExportedHandler<Env>;
