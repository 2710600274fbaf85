import { guardrailRoutes } from "../../../shared/api/guardrails.ts";
import { schema } from "../../../shared/db/index.ts";
import { DEFAULT_SETTINGS } from "../../../shared/guardrail-engine/policy/defaults.ts";
import { scopeOf, type GuardrailApiApp } from "./app.ts";

const { guardrailSettings } = schema;

export function registerSettings(app: GuardrailApiApp) {
  app.openapi(guardrailRoutes.getSettings, async (c) => {
    const scope = scopeOf(c);
    const row = await scope.db.query.guardrailSettings.findFirst({ where: scope.where(guardrailSettings) });
    const settings = row ?? DEFAULT_SETTINGS;
    return c.json({ fail_mode: settings.failMode, redaction: settings.redaction, max_scan_bytes: settings.maxScanBytes }, 200);
  });

  app.openapi(guardrailRoutes.putSettings, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    const values = { failMode: body.fail_mode, redaction: body.redaction, maxScanBytes: body.max_scan_bytes, updatedAt: Date.now() };
    await scope.db.insert(guardrailSettings).values({ orgId: scope.orgId, ...values })
      .onConflictDoUpdate({ target: guardrailSettings.orgId, set: values });
    return c.json(body, 200);
  });
}
