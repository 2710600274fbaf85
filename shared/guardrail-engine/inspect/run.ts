import type { Direction, InspectResult } from "../../guardrail.ts";
import { placeholderOf, type LoadedPolicy } from "../policy/source.ts";
import { inspectContent, InspectionError, type Content } from "./inspect.ts";

/**
 * Inspection as callers see it. If inspection itself fails (the policy cannot load, content
 * past the limit, a bug), the org's fail mode decides: closed (the default, and the answer
 * when the policy itself is missing) blocks, open lets the content through; either way the
 * result says what failed.
 */
export async function runInspection(loading: Promise<LoadedPolicy>, content: Content, direction: Direction, log: { worker: string; orgId: string }): Promise<InspectResult> {
  let failMode: "closed" | "open" = "closed";
  try {
    const loaded = await loading;
    failMode = loaded.policy.settings.failMode;
    return inspectContent(content, direction, loaded.policy, placeholderOf(loaded));
  } catch (error) {
    const code = error instanceof InspectionError ? error.code : "inspection_failed";
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof InspectionError)) {
      console.error(JSON.stringify({ level: "error", worker: log.worker, error: "inspection failed", org_id: log.orgId, detail: message }));
    }
    return { action: failMode === "open" ? "allow" : "block", findings: [], error: { code, message } };
  }
}
