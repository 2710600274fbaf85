import { createRoute, z } from "@hono/zod-openapi";
import { ACTION_RESOURCES, INPUT_TYPES, POLICY_ACTIONS, type ResourceDescriptor } from "../policy.ts";
import { RoleSchema } from "../principal.ts";
import { PageQuery, Problem, READ_ONLY, Slug, Timestamp, commonErrors, json, jsonBody, notFound, page } from "./common.ts";

const Id = z.string().min(1).max(200);
const Tags = z.array(z.string().min(1).max(100)).max(50).optional();
const ServerRef = z.strictObject({ id: Id, tags: Tags });

/** A resource as admission callers describe it (shared/policy.ts `ResourceDescriptor`). */
export const ResourceDescriptorSchema = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("Model"),
      id: Id,
      provider: z.strictObject({ id: Id, kind: z.string().min(1).max(100), consumer: z.boolean() }),
      consumer: z.boolean().optional(),
    }),
    z.strictObject({ type: z.literal("McpServer"), id: Id, tags: Tags }),
    z.strictObject({ type: z.literal("Tool"), id: Id, server: ServerRef, tags: Tags }),
    z.strictObject({ type: z.literal("Resource"), uri: z.string().min(1).max(2000), server: ServerRef }),
    z.strictObject({ type: z.literal("Prompt"), id: Id, server: ServerRef }),
    z.strictObject({ type: z.literal("AgentTool"), id: Id }),
    z.strictObject({ type: z.literal("Org"), slug: Slug }),
  ])
  .openapi("ResourceDescriptor");
// The contract and the RPC type must not drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const descriptorsAgree: Same<z.infer<typeof ResourceDescriptorSchema>, ResourceDescriptor> = true;
void descriptorsAgree;

const Teams = z.array(Slug).max(100).default([]);
const Roles = z.array(RoleSchema).max(3).default([]);
/** Who asks: a user (by id, with the teams it is in) or a key of no user. */
export const TestPrincipal = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("User"), id: Id, email: z.string().max(320).optional(), teams: Teams, roles: Roles }),
    z.strictObject({ type: z.literal("ApiKey"), id: Id, teams: Teams, roles: Roles }),
  ])
  .openapi("TestPrincipal");

/** What policies read in `context`; `agent` is the client (`context.agent`). */
export const TestContext = z
  .strictObject({
    now: z.iso.datetime().optional().openapi({ description: "When (default: when the test runs)" }),
    source_ip: z.union([z.ipv4(), z.ipv6()]).optional(),
    findings: z.array(z.string().max(100)).max(50).default([]),
    input: z.record(z.string(), z.unknown()).optional().openapi({ description: "Tool arguments (`context.input`)" }),
    agent: z.strictObject({ name: z.string().min(1).max(100), version: z.string().max(100).optional() }).optional(),
  })
  .openapi("TestContext");

export const PolicyTestCase = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    request: z
      .strictObject({
        principal: TestPrincipal,
        action: z.enum(POLICY_ACTIONS),
        resource: ResourceDescriptorSchema,
        context: TestContext.default({ findings: [] }),
      })
      .superRefine((request, ctx) => {
        const allowed = ACTION_RESOURCES[request.action];
        if (!allowed.includes(request.resource.type)) {
          ctx.addIssue({ code: "custom", path: ["resource", "type"], message: `${request.action} applies to ${allowed.join(", ")}, not ${request.resource.type}` });
        }
      }),
    expect: z.enum(["allow", "deny"]),
  })
  .openapi("PolicyTestCase");
export type PolicyTestCase = z.infer<typeof PolicyTestCase>;

export const PolicyMode = z.enum(["enforce", "log_only"]).openapi({ description: "`log_only`: decisions are recorded, nothing is blocked" });
const PolicyText = z.string().min(1).max(256_000).openapi({ description: "The whole policy set, in Cedar; every policy should carry an `@id`" });
const Tests = z.array(PolicyTestCase).max(500);
/** Tool arguments policies may read as `context.input.<name>`: Cedar validates a record only against declared attributes. */
export const InputDeclaration = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a Cedar identifier").max(64), z.enum(INPUT_TYPES))
  .refine((r) => Object.keys(r).length <= 50, "at most 50 attributes")
  .openapi({ description: "Tool-argument attributes of `context.input` and their Cedar types, e.g. `{\"sql\": \"String\"}`; others are not visible to policies", example: { sql: "String" } });

const versionFields = {
  version: z.number().int(),
  parent_version: z.number().int(),
  author: z.object({ id: z.string().nullable(), email: z.string().nullable() }),
  message: z.string(),
  mode: PolicyMode,
  input: InputDeclaration,
  created_at: Timestamp,
  active: z.boolean(),
};
export const PolicyVersionSummary = z.object({ ...versionFields, test_count: z.number().int() }).openapi("PolicyVersionSummary");
export const PolicyVersion = z
  .object({
    ...versionFields,
    text: z.string(),
    diff: z.string().openapi({ description: "Unified diff against `parent_version` (empty when unchanged)" }),
    tests: z.array(PolicyTestCase),
  })
  .openapi("PolicyVersion");

export const CreatePolicyVersion = z
  .strictObject({
    text: PolicyText,
    message: z.string().trim().min(1).max(1000),
    tests: Tests.default([]),
    mode: PolicyMode.default("enforce"),
    input: InputDeclaration.default({}),
    parent_version: z.number().int().min(0).optional().openapi({ description: "The version this one changes (default: the active one)" }),
  })
  .openapi("CreatePolicyVersion");

export const ActivePolicy = z
  .object({
    version: z.number().int(),
    mode: PolicyMode,
    etag: z.string().openapi({ description: "Send as `If-Match` to activate another version" }),
    activated_at: Timestamp.nullable(),
    activated_by: z.string().nullable(),
  })
  .openapi("ActivePolicy");

/** Run the tests of a stored version, or of a draft (text and tests). */
const VersionOrDraft = {
  version: z.number().int().min(0).optional(),
  text: PolicyText.optional(),
  input: InputDeclaration.optional().openapi({ description: "With `text`: the draft's `context.input` declaration" }),
};
const oneOf = (body: { version?: number; text?: string }) => (body.version === undefined) !== (body.text === undefined);
const oneOfMessage = { message: "give either `version` or a draft `text`", path: ["version"] };

export const RunPolicyTests = z
  .strictObject({ ...VersionOrDraft, tests: Tests.optional().openapi({ description: "With `text`: the draft's tests" }) })
  .refine(oneOf, oneOfMessage)
  .refine((b) => b.version === undefined || (b.tests === undefined && b.input === undefined), { message: "a stored version runs with its own tests and input declaration", path: ["tests"] })
  .openapi("RunPolicyTests");

export const PolicyTestResult = z
  .object({
    name: z.string(),
    expect: z.enum(["allow", "deny"]),
    decision: z.enum(["allow", "deny"]),
    determining: z.array(z.string()),
    errors: z.array(z.string()),
    passed: z.boolean(),
  })
  .openapi("PolicyTestResult");
export const PolicyTestRun = z
  .object({ version: z.number().int().nullable(), passed: z.number().int(), failed: z.number().int(), results: z.array(PolicyTestResult) })
  .openapi("PolicyTestRun");

export const SimulatePolicy = z
  .strictObject({
    ...VersionOrDraft,
    from: z.iso.datetime(),
    to: z.iso.datetime().optional().openapi({ description: "Default: now" }),
    sample_limit: z.number().int().min(0).max(100).default(20),
  })
  .refine(oneOf, oneOfMessage)
  .refine((b) => b.version === undefined || b.input === undefined, { message: "a stored version runs with its own input declaration", path: ["input"] })
  .refine((b) => b.to === undefined || Date.parse(b.to) > Date.parse(b.from), { message: "`to` must be after `from`", path: ["to"] })
  .openapi("SimulatePolicy");

const Change = { allow_to_deny: z.number().int(), deny_to_allow: z.number().int() };
const Outcome = z.object({ decision: z.enum(["allow", "deny"]), determining: z.array(z.string()) });
export const PolicySimulation = z
  .object({
    from: Timestamp,
    to: Timestamp,
    version: z.number().int().nullable().openapi({ description: "The version replayed (null: a draft)" }),
    replayed: z.number().int().openapi({ description: "Decisions replayed (a tools/list counts each tool)" }),
    changed: z.number().int(),
    truncated: z.boolean().openapi({ description: "The window held more decision records than one simulation reads; narrow it" }),
    by_action: z.array(z.object({ action: z.string(), ...Change })),
    by_resource: z.array(z.object({ action: z.string(), resource: z.string(), ...Change })),
    samples: z.array(
      z.object({
        request_id: z.string(),
        time: Timestamp,
        principal: z.object({ user_id: z.string().nullable(), email: z.string().nullable(), teams: z.array(z.string()) }),
        action: z.string(),
        resource: z.string(),
        before: Outcome.extend({ version: z.number().int() }),
        after: Outcome,
      }),
    ),
  })
  .openapi("PolicySimulation");

/** 422 for a policy text: Cedar's own errors, with where they are. */
export const PolicyProblem = Problem.extend({
  errors: z
    .array(
      z.object({
        path: z.string(),
        message: z.string(),
        policy_id: z.string().optional(),
        line: z.number().int().optional(),
        column: z.number().int().optional(),
        end_line: z.number().int().optional(),
        end_column: z.number().int().optional(),
        help: z.string().optional(),
      }),
    )
    .optional(),
}).openapi("PolicyProblem");

const problemOf = (description: string) => ({ description, content: { "application/problem+json": { schema: PolicyProblem } } });
const invalidPolicy = { 422: problemOf("The body, the policy text (Cedar's errors with line and column) or a test case is not valid") };
const VersionParam = z.object({ version: z.coerce.number().int().min(0).openapi({ param: { name: "version", in: "path" } }) });
const etagHeader = { ETag: { schema: { type: "string" as const }, description: "The active pointer's ETag" } };

const tags = ["Policies"];

export const policyRoutes = {
  list: createRoute({
    method: "get", path: "/policies", tags, summary: "List policy set versions, newest first",
    request: { query: PageQuery },
    responses: { 200: json(page(PolicyVersionSummary), "A page of versions"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/policies", tags, summary: "Create a new version (validated against the Airlock schema; not yet active)",
    request: { body: jsonBody(CreatePolicyVersion) },
    responses: { 201: json(PolicyVersion, "Created"), ...commonErrors, ...notFound, ...invalidPolicy },
  }),
  active: createRoute({
    method: "get", path: "/policies/active", tags, summary: "The active version and its ETag",
    responses: { 200: { ...json(ActivePolicy, "The active pointer"), headers: etagHeader }, ...commonErrors },
  }),
  test: createRoute({
    method: "post", path: "/policies/test", tags, summary: "Run the tests of a version or of a draft",
    ...READ_ONLY,
    request: { body: jsonBody(RunPolicyTests) },
    responses: { 200: json(PolicyTestRun, "Per-case results"), ...commonErrors, ...notFound, ...invalidPolicy },
  }),
  simulate: createRoute({
    method: "post", path: "/policies/simulate", tags, summary: "Replay recorded decisions of a time window under a version or draft; report what would change",
    ...READ_ONLY,
    request: { body: jsonBody(SimulatePolicy) },
    responses: { 200: json(PolicySimulation, "What would change"), ...commonErrors, ...notFound, ...invalidPolicy },
  }),
  get: createRoute({
    method: "get", path: "/policies/{version}", tags, summary: "Get a version with its text, diff and tests (0: the starter templates)",
    request: { params: VersionParam },
    responses: { 200: json(PolicyVersion, "The version"), ...commonErrors, ...notFound },
  }),
  activate: createRoute({
    method: "post", path: "/policies/{version}/activate", tags, summary: "Activate a version (roll back = activate an older one); needs If-Match",
    request: { params: VersionParam, headers: z.object({ "if-match": z.string().max(200).optional() }) },
    responses: {
      200: { ...json(ActivePolicy, "Now active"), headers: etagHeader },
      ...commonErrors,
      ...notFound,
      409: problemOf("The version's tests fail (listed in `errors`)"),
      412: problemOf("If-Match does not match the active pointer's ETag (someone else activated meanwhile)"),
      428: problemOf("If-Match is missing"),
    },
  }),
};
