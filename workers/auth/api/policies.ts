import { decodeCursor, encodeCursor, iso, isoOrNull } from "../../../shared/api/cursor.ts";
import { policyRoutes, type PolicyTestCase } from "../../../shared/api/policies.ts";
import type { OrgScope } from "../../../shared/db/index.ts";
import type { InputDeclaration } from "../../../shared/policy.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { unifiedDiff } from "../policy/diff.ts";
import { PolicySetInvalid, type Engine, type PreparedPolicySet } from "../../../shared/policy-engine/engine.ts";
import { engineFor } from "../../../shared/policy-engine/authorize.ts";
import { invalidPolicy } from "../policy/problems.ts";
import { simulate } from "../policy/simulate.ts";
import { findVersion, insertVersion, listVersions, readActive, swapActive, type ActivePointer, type PolicyVersionRow } from "../policy/store.ts";
import { failuresOf, runTests } from "../policy/tests.ts";
import { scopeOf, type AuthApiApp } from "./app.ts";

const summary = (row: Omit<PolicyVersionRow, "compiled">, active: number) => ({
  version: row.version,
  parent_version: row.parentVersion,
  author: { id: row.authorId, email: row.authorEmail },
  message: row.message,
  mode: row.mode,
  input: row.input,
  created_at: iso(row.createdAt),
  active: row.version === active,
});
const full = (row: Omit<PolicyVersionRow, "compiled">, active: number) => ({
  ...summary(row, active),
  text: row.text,
  diff: row.diff,
  tests: row.tests as PolicyTestCase[],
});
const pointer = (p: ActivePointer & { mode: "enforce" | "log_only" }) => ({
  version: p.version,
  mode: p.mode,
  etag: p.etag,
  activated_at: isoOrNull(p.activatedAt),
  activated_by: p.activatedBy,
});

/** A set to test or simulate: a stored version or a draft, prepared outside the org's active slot. */
function prepare(engine: Engine, version: number | null, text: string): PreparedPolicySet {
  try {
    return engine.prepareScratch(version ?? -1, text);
  } catch (error) {
    if (error instanceof PolicySetInvalid) throw invalidPolicy(text, error.errors);
    throw error;
  }
}

async function versionOrDraft(scope: OrgScope, body: { version?: number; text?: string; tests?: PolicyTestCase[]; input?: InputDeclaration }) {
  if (body.version === undefined) return { version: null, text: body.text!, tests: body.tests ?? [], engine: engineFor(body.input) };
  const row = await findVersion(scope, body.version);
  if (!row) throw new ProblemError("not_found", `No policy version ${body.version} in this org`);
  return { version: row.version, text: row.text, tests: row.tests as PolicyTestCase[], engine: engineFor(row.input) };
}

export function registerPolicies(app: AuthApiApp) {
  app.openapi(policyRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const [rows, active] = await Promise.all([listVersions(scope, limit + 1, decodeCursor(cursor)), readActive(scope)]);
    const items = rows.slice(0, limit);
    return c.json({
      data: items.map((r) => ({ ...summary(r, active.version), test_count: r.tests.length })),
      next_cursor: rows.length > limit ? encodeCursor(items.at(-1)!.id) : null,
    }, 200);
  });

  app.openapi(policyRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    const { validation, compiled } = engineFor(body.input).compile(body.text);
    if (!validation.ok || !compiled) throw invalidPolicy(body.text, validation.ok ? [] : validation.errors);
    const active = await readActive(scope);
    const parentVersion = body.parent_version ?? active.version;
    const parent = await findVersion(scope, parentVersion);
    if (!parent) throw new ProblemError("not_found", `No policy version ${parentVersion} in this org to be the parent`);
    const { principal } = c.env.context;
    const row = await insertVersion(
      scope,
      {
        parentVersion,
        authorId: principal.user_id ?? principal.credential_id,
        authorEmail: principal.email,
        message: body.message,
        text: body.text,
        tests: body.tests,
        mode: body.mode,
        input: body.input,
        compiled,
      },
      (version) => unifiedDiff(parent.text, body.text, { from: `v${parentVersion}`, to: `v${version}` }),
    );
    return c.json(full(row, active.version), 201);
  });

  app.openapi(policyRoutes.active, async (c) => {
    const active = await readActive(scopeOf(c));
    return c.json(pointer(active), 200, { ETag: active.etag });
  });

  app.openapi(policyRoutes.test, async (c) => {
    const scope = scopeOf(c);
    const target = await versionOrDraft(scope, c.req.valid("json"));
    const results = runTests(target.engine, prepare(target.engine, target.version, target.text), target.tests);
    const passed = results.filter((r) => r.passed).length;
    return c.json({ version: target.version, passed, failed: results.length - passed, results }, 200);
  });

  app.openapi(policyRoutes.simulate, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    const target = await versionOrDraft(scope, body);
    const set = prepare(target.engine, target.version, target.text);
    const window = { from: Date.parse(body.from), to: body.to ? Date.parse(body.to) : Date.now() };
    return c.json(await simulate(scope, target.engine, set, target.version, window, body.sample_limit), 200);
  });

  app.openapi(policyRoutes.get, async (c) => {
    const scope = scopeOf(c);
    const { version } = c.req.valid("param");
    const [row, active] = await Promise.all([findVersion(scope, version), readActive(scope)]);
    if (!row) throw new ProblemError("not_found", `No policy version ${version} in this org`);
    return c.json(full(row, active.version), 200);
  });

  app.openapi(policyRoutes.activate, async (c) => {
    const scope = scopeOf(c);
    const { version } = c.req.valid("param");
    const ifMatch = c.req.valid("header")["if-match"];
    const current = await readActive(scope);
    if (!ifMatch) throw new ProblemError("precondition_required", `Send If-Match with the active pointer's ETag (GET /api/v1/policies/active; now ${current.etag})`);
    if (ifMatch !== current.etag) throw new ProblemError("precondition_failed", `The active pointer changed (ETag now ${current.etag}); read it again and decide`);
    const row = await findVersion(scope, version);
    if (!row) throw new ProblemError("not_found", `No policy version ${version} in this org`);
    const engine = engineFor(row.input);
    const results = runTests(engine, prepare(engine, row.version, row.text), row.tests as PolicyTestCase[]);
    const failures = failuresOf(results);
    if (failures.length > 0) throw new ProblemError("policy_tests_failed", `${failures.length} of ${results.length} tests of version ${version} fail; it was not activated`, failures);
    const { principal } = c.env.context;
    const swapped = await swapActive(scope, current, version, principal.email ?? principal.user_id ?? principal.credential_id);
    if (!swapped) throw new ProblemError("precondition_failed", "Another activation won meanwhile; read the active pointer again and decide");
    return c.json(pointer({ ...swapped, mode: row.mode }), 200, { ETag: swapped.etag });
  });
}
