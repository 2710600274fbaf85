// Where an org's policy set versions live: D1, every query scoped by org. Versions are
// immutable rows; the active one is a pointer row whose ETag changes on every activation.
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import type { StoredCompiledPolicySet } from "../../../shared/db/tables/policies.ts";
import { ProblemError } from "../../../shared/problem.ts";
import type { InputDeclaration } from "../../../shared/policy.ts";
import type { PolicyMode } from "../../../shared/rpc.ts";
import type { PolicyTestCase } from "../../../shared/api/policies.ts";
import { starterPolicySet } from "./templates.ts";

const { policyVersions, activePolicies } = schema;
export type PolicyVersionRow = typeof policyVersions.$inferSelect;

/** Every org without a version of its own runs the starter templates as version 0 (compiled when prepared). */
export const STARTER_VERSION: Omit<PolicyVersionRow, "orgId" | "compiled"> & { compiled: null } = {
  id: "starter",
  version: 0,
  parentVersion: 0,
  authorId: null,
  authorEmail: null,
  message: "Starter templates",
  text: starterPolicySet(),
  diff: "",
  tests: [],
  mode: "enforce",
  input: {},
  compiled: null,
  createdAt: 0,
};
/** The ETag of an org that never activated anything. */
const INITIAL_ETAG = '"v0-initial"';

export interface ActivePolicySet {
  version: number;
  text: string;
  mode: PolicyMode;
  /** `context.input` attributes the set declares (tool arguments its policies read). */
  input: InputDeclaration;
  compiled: StoredCompiledPolicySet | null;
  etag: string;
  activatedAt: number | null;
  activatedBy: string | null;
  /** Whether the pointer row exists (an activation then updates it, else inserts it). */
  stored: boolean;
}

export type ActivePointer = Pick<ActivePolicySet, "version" | "etag" | "activatedAt" | "activatedBy">;

/** The org's active version, one D1 read. */
export async function readActive(scope: OrgScope): Promise<ActivePolicySet> {
  const [row] = await scope.db
    .select({ pointer: activePolicies, text: policyVersions.text, mode: policyVersions.mode, input: policyVersions.input, compiled: policyVersions.compiled })
    .from(activePolicies)
    .leftJoin(policyVersions, and(eq(policyVersions.orgId, activePolicies.orgId), eq(policyVersions.version, activePolicies.version)))
    .where(scope.where(activePolicies))
    .limit(1);
  if (!row) return { version: 0, text: STARTER_VERSION.text, mode: "enforce", input: {}, compiled: null, etag: INITIAL_ETAG, activatedAt: null, activatedBy: null, stored: false };
  const { pointer } = row;
  const starter = pointer.version === 0;
  return {
    version: pointer.version,
    text: starter ? STARTER_VERSION.text : row.text!,
    mode: starter ? "enforce" : row.mode!,
    input: starter ? {} : row.input!,
    compiled: starter ? null : row.compiled!,
    etag: pointer.etag,
    activatedAt: pointer.activatedAt,
    activatedBy: pointer.activatedBy,
    stored: true,
  };
}

export async function findVersion(scope: OrgScope, version: number): Promise<(Omit<PolicyVersionRow, "compiled"> & { compiled: StoredCompiledPolicySet | null }) | null> {
  if (version === 0) return { ...STARTER_VERSION, orgId: scope.orgId };
  const row = await scope.db.query.policyVersions.findFirst({ where: scope.where(policyVersions, eq(policyVersions.version, version)) });
  return row ?? null;
}

export async function listVersions(scope: OrgScope, limit: number, before: string | undefined): Promise<PolicyVersionRow[]> {
  return scope.db
    .select()
    .from(policyVersions)
    .where(scope.where(policyVersions, before ? lt(policyVersions.id, before) : undefined))
    .orderBy(desc(policyVersions.id))
    .limit(limit);
}

export interface NewVersion {
  parentVersion: number;
  authorId: string | null;
  authorEmail: string | null;
  message: string;
  text: string;
  tests: PolicyTestCase[];
  mode: PolicyMode;
  input: InputDeclaration;
  compiled: StoredCompiledPolicySet;
}

/**
 * Stores a new version numbered one past the org's last; `diffFor` writes its diff (the
 * header names the number). Two creations racing for one number: the unique index lets
 * one in, the other is told to retry.
 */
export async function insertVersion(scope: OrgScope, fields: NewVersion, diffFor: (version: number) => string): Promise<PolicyVersionRow> {
  const [last] = await scope.db
    .select({ version: sql<number>`coalesce(max(${policyVersions.version}), 0)` })
    .from(policyVersions)
    .where(scope.where(policyVersions));
  const version = (last?.version ?? 0) + 1;
  try {
    const [row] = await scope.db
      .insert(policyVersions)
      .values({ id: ulid(), orgId: scope.orgId, version, ...fields, diff: diffFor(version), createdAt: Date.now() })
      .returning();
    return row!;
  } catch (error) {
    if (String((error as { cause?: unknown }).cause ?? error).includes("UNIQUE")) {
      throw new ProblemError("conflict", `Another policy version was created at the same time (version ${version}); send it again`);
    }
    throw error;
  }
}

/**
 * Points the org at `version` if the pointer still has `expected` as its ETag (a
 * conditional write, so of two racing activations one wins and the other learns it).
 * Null when the pointer moved meanwhile.
 */
export async function swapActive(scope: OrgScope, current: ActivePolicySet, version: number, by: string | null): Promise<ActivePointer | null> {
  const values = { version, etag: `"v${version}-${ulid()}"`, activatedBy: by, activatedAt: Date.now() };
  const rows = current.stored
    ? await scope.db.update(activePolicies).set(values).where(scope.where(activePolicies, eq(activePolicies.etag, current.etag))).returning()
    : await scope.db.insert(activePolicies).values({ orgId: scope.orgId, ...values }).onConflictDoNothing().returning();
  if (rows.length === 0) return null;
  return values;
}
