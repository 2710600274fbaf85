import type { Direction, InspectResult } from "../../../shared/guardrail.ts";
import type { Env } from "../env.ts";
import { policyFor } from "../policy/load.ts";
import { inspectContent, InspectionError, type Content } from "./inspect.ts";

export interface Inspection {
  orgId: string;
  configVersion: number;
  direction: Direction;
  content: Content;
}

/**
 * Inspection as callers see it. If inspection itself fails (a bad policy row, content past
 * the limit, a bug), the org's fail mode decides: closed (default) blocks, open lets the
 * content through; either way the result says what failed.
 */
export async function runInspection(env: Env, inspection: Inspection): Promise<InspectResult> {
  let failMode: "closed" | "open" = "closed";
  try {
    const { policy, detectors } = await policyFor(env.DB, inspection.orgId, inspection.configVersion);
    failMode = policy.settings.failMode;
    return inspectContent(inspection.content, inspection.direction, policy, (id) => detectors.get(id)?.placeholder ?? "REDACTED");
  } catch (error) {
    const code = error instanceof InspectionError ? error.code : "inspection_failed";
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof InspectionError)) {
      console.error(JSON.stringify({ level: "error", worker: "guardrail", error: "inspection failed", org_id: inspection.orgId, detail: message }));
    }
    return { action: failMode === "open" ? "allow" : "block", findings: [], error: { code, message } };
  }
}
