import { guardrailRoutes } from "../../../shared/api/guardrails.ts";
import { orgOf } from "../../../shared/api/app.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { recordFindings } from "../findings.ts";
import { runInspection } from "../../../shared/guardrail-engine/inspect/run.ts";
import { BUILT_IN_DETECTORS } from "../../../shared/guardrail-engine/detectors/index.ts";
import { policyFor } from "../policy/load.ts";
import type { GuardrailApiApp } from "./app.ts";

export function registerScan(app: GuardrailApiApp) {
  app.openapi(guardrailRoutes.scan, async (c) => {
    const { context, env } = c.env;
    const org = orgOf(context);
    const { direction, text, messages, json, dry_run } = c.req.valid("json");
    const result = await runInspection(policyFor(env.DB, org.id, context.configVersion), { text, messages, json }, direction, { worker: "guardrail", orgId: org.id });
    if (result.error?.code === "payload_too_large") throw new ProblemError("payload_too_large", result.error.message);
    if (result.error?.code === "too_deep") throw new ProblemError("validation_failed", result.error.message);
    if (!dry_run) {
      const { principal } = context;
      c.executionCtx.waitUntil(
        recordFindings(env, org.id, context.requestId, direction, result, { user_id: principal.user_id, email: principal.email, client: principal.client.name }),
      );
    }
    return c.json(result, 200);
  });

  app.openapi(guardrailRoutes.detectors, async (c) => {
    const { detectors } = await policyFor(c.env.env.DB, orgOf(c.env.context).id, c.env.context.configVersion);
    const builtIn = new Set(BUILT_IN_DETECTORS.map((d) => d.id));
    const data = [...detectors.values()]
      .sort((a, b) => Number(builtIn.has(b.id)) - Number(builtIn.has(a.id)))
      .map((d) => ({ id: d.id, category: d.category, placeholder: d.placeholder, description: d.description, directions: [...d.directions] }));
    return c.json({ data }, 200);
  });
}
