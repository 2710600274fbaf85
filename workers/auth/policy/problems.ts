// Cedar's errors as problem+json `errors`, with line and column in the policy text (Cedar
// gives character offsets; people and editors think in lines).
import { ProblemError } from "../../../shared/problem.ts";
import type { PolicyError } from "../../../shared/policy-engine/engine.ts";

export interface PolicyProblemError {
  path: string;
  message: string;
  policy_id?: string;
  line?: number;
  column?: number;
  end_line?: number;
  end_column?: number;
  help?: string;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

export function policyErrors(text: string, errors: PolicyError[], path = "text"): PolicyProblemError[] {
  return errors.map((e) => {
    const out: PolicyProblemError = { path, message: e.message };
    if (e.policyId) out.policy_id = e.policyId;
    if (e.start !== undefined) {
      const start = lineColumn(text, e.start);
      out.line = start.line;
      out.column = start.column;
    }
    if (e.end !== undefined) {
      const end = lineColumn(text, e.end);
      out.end_line = end.line;
      out.end_column = end.column;
    }
    if (e.help) out.help = e.help;
    return out;
  });
}

/** 422: the policy text does not parse or does not validate against the Airlock schema. */
export function invalidPolicy(text: string, errors: PolicyError[]): ProblemError {
  const detailed = policyErrors(text, errors);
  const first = detailed[0];
  const where = first?.line !== undefined ? ` (line ${first.line}, column ${first.column})` : "";
  return new ProblemError("validation_failed", `The policy set does not validate against the Airlock schema: ${first?.message ?? "invalid"}${where}`, detailed);
}
