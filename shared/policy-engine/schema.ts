// The Airlock Cedar schema (Cedar's human-readable schema format). Kept as a TypeScript
// string so wrangler, the vitest plugin and Node all load it without a text-module rule.
//
// How Airlock's entities map:
// - `User` is the principal whenever a credential belongs to a user (API key of a user,
//   OAuth token, admin token of a user); an API key or admin token with no user is an
//   `ApiKey`. Team membership is the entity hierarchy (`User in Team`; a user's key is
//   `in` the user), so `principal in Airlock::Team::"sre"` holds for both. Teams are named
//   by their slug (`teams.name`), the name policy authors write.
// - `Agent` is the client the request came from (`claude-code`, `cursor`, …, from the
//   User-Agent), reached as `context.agent`.
// - Resources: `Model in Provider`, `Tool in McpServer`, `Resource in McpServer`,
//   `Prompt in McpServer`, `AgentTool` (an agent's own tool seen through hooks: Bash, Read…),
//   `Org` (admin actions).
// - Time is given twice: `context.now` is a Cedar `datetime` (stable extension since
//   Cedar 4.4, language 4.5 here), good for comparisons with `datetime("…")` and for
//   `context.now.toTime() >= duration("8h")`; Cedar has no weekday or hour accessor, so
//   `context.time` also carries UTC `hour`, `minute` and `weekday` (0 = Sunday) as Longs,
//   which is what most time windows need (`context.time.hour >= 8`).
// - `context.input` is the tool call's arguments. Cedar validates a record only against a
//   declared type (open records are experimental in 4.13), so each policy set version
//   declares the arguments its policies read (`input: { sql: "String" }`; one engine per
//   declaration, policy/index.ts); undeclared arguments are dropped from the request, and a
//   declared one of the wrong type makes the request invalid (denied, never skipped).

/** A Cedar type as written in the schema (`String`, `Long`, `Bool`, `Set<String>`, …). */
export type CedarTypeText = string;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The Airlock schema, with `context.input` declared as `input` (attribute name → Cedar type). */
export function airlockSchema(input: Record<string, CedarTypeText> = {}): string {
  const inputAttributes = Object.entries(input).map(([name, type]) => {
    if (!IDENT.test(name)) throw new Error(`tool input attribute ${JSON.stringify(name)} is not a Cedar identifier`);
    return `${name}?: ${type}`;
  });
  const common = `now: __cedar::datetime,
    time: Time,
    agent: Agent,
    source_ip?: __cedar::ipaddr,
    findings: Set<String>`;
  return `namespace Airlock {
  type Time = { hour: Long, minute: Long, weekday: Long };
  type ToolInput = { ${inputAttributes.join(", ")} };
  type RequestContext = {
    ${common}
  };
  type ToolContext = {
    ${common},
    input?: ToolInput
  };

  entity Team = { id: String };
  entity User in [Team] = { email: String, teams: Set<String>, roles: Set<String> };
  entity ApiKey in [User, Team] = { kind: String, roles: Set<String> };
  entity Agent = { name: String, version?: String, oauth_client?: String };
  entity Org = { slug: String };

  entity Provider = { kind: String, consumer: Bool };
  entity Model in [Provider] = { name: String, consumer: Bool };
  entity McpServer = { name: String, tags: Set<String> };
  entity Tool in [McpServer] = { name: String, tags: Set<String> };
  entity Resource in [McpServer] = { uri: String };
  entity Prompt in [McpServer] = { name: String };
  entity AgentTool = { name: String };

  action invoke_model appliesTo { principal: [User, ApiKey], resource: [Model], context: RequestContext };
  action list_tools appliesTo { principal: [User, ApiKey], resource: [McpServer], context: RequestContext };
  action call_tool appliesTo { principal: [User, ApiKey], resource: [Tool], context: ToolContext };
  action read_resource appliesTo { principal: [User, ApiKey], resource: [Resource], context: RequestContext };
  action get_prompt appliesTo { principal: [User, ApiKey], resource: [Prompt], context: RequestContext };
  action use_hook appliesTo { principal: [User, ApiKey], resource: [Tool, AgentTool], context: ToolContext };
  action admin_read appliesTo { principal: [User, ApiKey], resource: [Org], context: RequestContext };
  action admin_write appliesTo { principal: [User, ApiKey], resource: [Org], context: RequestContext };
}
`;
}

