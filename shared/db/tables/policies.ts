import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { InputDeclaration } from "../../policy.ts";
import { orgs } from "../schema.ts";

/** A policy test case as stored with its version (the API's `PolicyTestCase`). */
export type StoredPolicyTest = Record<string, unknown>;

/** What the auth Worker learned parsing a version once (its `CompiledPolicySet`), so a fresh isolate prepares it faster. */
export interface StoredCompiledPolicySet {
  policyIds: string[];
  observed: { literals: string[]; attributes: string[]; wholeContext: boolean };
  actions: Record<string, string[] | null>;
}

/**
 * Every version of an org's Cedar policy set, immutable once written: numbered 1, 2, 3…
 * per org, with who wrote it, why, the whole text, the diff against its parent, its test
 * cases and how its decisions apply.
 */
export const policyVersions = sqliteTable(
  "policy_versions",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    version: integer("version").notNull(),
    /** The version this one was written against (0 = the starter templates). */
    parentVersion: integer("parent_version").notNull(),
    authorId: text("author_id"),
    authorEmail: text("author_email"),
    message: text("message").notNull(),
    text: text("text").notNull(),
    /** Unified diff of `text` against the parent's text. */
    diff: text("diff").notNull(),
    tests: text("tests", { mode: "json" }).$type<StoredPolicyTest[]>().notNull(),
    mode: text("mode", { enum: ["enforce", "log_only"] }).notNull(),
    /** Tool-argument attributes of `context.input` the set declares: name → Cedar type. */
    input: text("input", { mode: "json" }).$type<InputDeclaration>().notNull(),
    compiled: text("compiled", { mode: "json" }).$type<StoredCompiledPolicySet>().notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("policy_versions_org_version").on(t.orgId, t.version), index("policy_versions_org_id").on(t.orgId, t.id)],
);

/**
 * The org's active version (absent: the starter templates, version 0). `etag` changes on
 * every activation, so an activation names the pointer it read (If-Match) and two admins
 * cannot overwrite each other.
 */
export const activePolicies = sqliteTable("active_policies", {
  orgId: text("org_id").primaryKey().references(() => orgs.id),
  version: integer("version").notNull(),
  etag: text("etag").notNull(),
  activatedBy: text("activated_by"),
  activatedAt: integer("activated_at").notNull(),
});
