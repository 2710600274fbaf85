import { WorkerEntrypoint } from "cloudflare:workers";
import { apiApp } from "../../shared/api/app.ts";
import { InspectInputSchema, RecordFindingsInputSchema, type InspectInput, type InspectResult, type RecordFindingsInput } from "../../shared/guardrail.ts";
import { runInspection } from "../../shared/guardrail-engine/inspect/run.ts";
import type { PolicySource } from "../../shared/guardrail-engine/policy/source.ts";
import type { AlertActor, ApiContext, GuardrailRpc, Health } from "../../shared/rpc.ts";
import { registerAlertDestinations } from "./alerts/api.ts";
import { deliverAlerts } from "./alerts/consumer.ts";
import { adminApp } from "./api/app.ts";
import { registerCustomDetectors } from "./api/custom-detectors.ts";
import { registerRules } from "./api/rules.ts";
import { registerScan } from "./api/scan.ts";
import { registerSettings } from "./api/settings.ts";
import type { Env } from "./env.ts";
import { recordFindings } from "./findings.ts";
import { policyFor, policySource } from "./policy/load.ts";

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
    const result = await runInspection(policyFor(this.env.DB, org_id, config_version), { text, messages, json }, direction, { worker: "guardrail", orgId: org_id });
    this.ctx.waitUntil(recordFindings(this.env, org_id, request_id, direction, result, actor));
    return result;
  }

  policySource(orgId: string): Promise<PolicySource> {
    return policySource(this.env.DB, orgId);
  }

  async record(input: RecordFindingsInput, actor?: AlertActor): Promise<void> {
    const parsed = RecordFindingsInputSchema.safeParse(input);
    if (!parsed.success) {
      // A caller's bug, reported here: the caller records in waitUntil, after its answer has gone.
      console.error(JSON.stringify({ level: "error", worker: "guardrail", error: "findings to record are malformed", issues: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) }));
      return;
    }
    const { org_id, request_id, direction, findings } = parsed.data;
    await recordFindings(this.env, org_id, request_id, direction, { action: "allow", findings }, actor);
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
