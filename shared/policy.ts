// What callers of admission / `AUTH.authorizeMany()` say about a request, and the
// decision they get back. The engine (Cedar, Airlock schema) lives in workers/auth/policy/.

export const POLICY_ACTIONS = ["invoke_model", "list_tools", "call_tool", "read_resource", "get_prompt", "use_hook", "admin_read", "admin_write"] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** Which resource types each action applies to (the Airlock Cedar schema's `appliesTo`). */
export const ACTION_RESOURCES: Record<PolicyAction, readonly ResourceDescriptor["type"][]> = {
  invoke_model: ["Model"],
  list_tools: ["McpServer"],
  call_tool: ["Tool"],
  read_resource: ["Resource"],
  get_prompt: ["Prompt"],
  use_hook: ["Tool", "AgentTool"],
  admin_read: ["Org"],
  admin_write: ["Org"],
};

/** The resource an action addresses, as a Cedar entity with its parents (ids within their own type). */
export type ResourceDescriptor =
  | { type: "Model"; id: string; provider: { id: string; kind: string; consumer: boolean }; consumer?: boolean }
  | { type: "McpServer"; id: string; tags?: string[] }
  | { type: "Tool"; id: string; server: { id: string; tags?: string[] }; tags?: string[] }
  | { type: "Resource"; uri: string; server: { id: string; tags?: string[] } }
  | { type: "Prompt"; id: string; server: { id: string; tags?: string[] } }
  | { type: "AgentTool"; id: string }
  | { type: "Org"; slug: string };

/** Cedar types a tool argument may be declared with (`context.input.<name>`). */
export const INPUT_TYPES = ["String", "Long", "Bool", "Set<String>", "Set<Long>"] as const;
/** A policy set's `context.input` declaration: argument name → Cedar type. */
export type InputDeclaration = Record<string, (typeof INPUT_TYPES)[number]>;

/** Facts about the request that policies can read in `context`. */
export interface RequestFacts {
  /** When (default: now). */
  now?: Date;
  sourceIp?: string | null;
  /** Guardrail finding categories on this request. */
  findings?: string[];
  /** Tool arguments (call_tool, use_hook): `context.input`; only attributes the schema declares are kept. */
  input?: Record<string, unknown>;
}

export interface PolicyDecision {
  decision: "allow" | "deny";
  /** `@id`s of the policies that determined it (permits for allow, forbids for deny; empty for default deny). */
  determining: string[];
  /** Cedar's errors: policies that failed to evaluate, or a request the schema refuses (then deny). */
  errors: string[];
}
