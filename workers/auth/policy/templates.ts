// Starter policies every org begins with (policy is default-deny: without a permit,
// nothing is allowed). Each is a Cedar text with an `@id`, the id decisions report.

/** Allow every signed-in user (and the org's keys) to use the catalog: models, MCP servers, tools, resources, prompts, hooks. */
export const allowCatalog = `@id("allow-catalog")
permit (
  principal,
  action in [
    Airlock::Action::"invoke_model",
    Airlock::Action::"list_tools",
    Airlock::Action::"call_tool",
    Airlock::Action::"read_resource",
    Airlock::Action::"get_prompt",
    Airlock::Action::"use_hook"
  ],
  resource
);`;

/** Forbid tools tagged `destructive` unless the caller is in `team`. */
export const forbidDestructiveTools = (team: string) => `@id("forbid-destructive-tools")
forbid (
  principal,
  action in [Airlock::Action::"call_tool", Airlock::Action::"use_hook"],
  resource is Airlock::Tool
)
when { resource.tags.contains("destructive") }
unless { principal in Airlock::Team::${JSON.stringify(team)} };`;

/** Forbid models of consumer providers (or models marked consumer). */
export const forbidConsumerProviders = `@id("forbid-consumer-providers")
forbid (
  principal,
  action == Airlock::Action::"invoke_model",
  resource is Airlock::Model
)
when { resource.consumer };`;

/** The policy set an org starts with. */
export function starterPolicySet(options: { destructiveToolsTeam?: string } = {}): string {
  return [allowCatalog, forbidDestructiveTools(options.destructiveToolsTeam ?? "admins"), forbidConsumerProviders].join("\n\n") + "\n";
}
