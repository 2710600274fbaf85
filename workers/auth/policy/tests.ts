// A version's test cases (request → expected decision), run against a prepared set.
import type { PolicyTestCase } from "../../../shared/api/policies.ts";
import type { Principal } from "../../../shared/principal.ts";
import type { Engine, PreparedPolicySet } from "../../../shared/policy-engine/engine.ts";

export interface TestResult {
  name: string;
  expect: "allow" | "deny";
  decision: "allow" | "deny";
  determining: string[];
  errors: string[];
  passed: boolean;
}

/** The Airlock principal a test case describes: a user (or a key of no user) in the named teams. */
export function principalOf(request: PolicyTestCase["request"]): Principal {
  const { principal, context } = request;
  return {
    kind: "api_key",
    org_id: null,
    org_slug: null,
    credential_id: principal.type === "ApiKey" ? principal.id : null,
    user_id: principal.type === "User" ? principal.id : null,
    email: principal.type === "User" ? (principal.email ?? null) : null,
    // Policies name teams by name; a test case knows only names.
    teams: principal.teams.map((name) => ({ id: name, name })),
    roles: principal.roles,
    client: context.agent ?? { name: "test" },
  };
}

export function runTests(engine: Engine, set: PreparedPolicySet, tests: PolicyTestCase[]): TestResult[] {
  return tests.map((test) => {
    const { request } = test;
    const { context } = request;
    const d = engine.decide(set, {
      principal: principalOf(request),
      action: request.action,
      resource: request.resource,
      ...(context.now ? { now: new Date(context.now) } : {}),
      sourceIp: context.source_ip ?? null,
      findings: context.findings,
      ...(context.input ? { input: context.input } : {}),
    });
    return { name: test.name, expect: test.expect, decision: d.decision, determining: d.determining, errors: d.errors, passed: d.decision === test.expect };
  });
}

/** Failures as problem `errors`: which case, what it expected, what it got and why. */
export function failuresOf(results: TestResult[]): { path: string; message: string }[] {
  return results.flatMap((r, i) =>
    r.passed
      ? []
      : [{
          path: `tests.${i}`,
          message: `${r.name}: expected ${r.expect}, got ${r.decision}` +
            (r.determining.length ? ` (determining: ${r.determining.join(", ")})` : " (no policy permits it)") +
            (r.errors.length ? `; errors: ${r.errors.join("; ")}` : ""),
        }],
  );
}
