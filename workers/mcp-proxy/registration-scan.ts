import { orgOf } from "../../shared/api/app.ts";
import type { ApiContext } from "../../shared/rpc.ts";
import type { Call } from "./call.ts";
import type { Env } from "./env.ts";
import { usableTools } from "./pins.ts";
import { load } from "./registry.ts";
import { openUpstream } from "./stateless.ts";
import { listUpstreamTools } from "./tools.ts";
import { exchange } from "./upstream/streamable-http.ts";

/** What registering (or updating) a server found in its tools; a failure is a warning, never a refusal. */
export interface ToolScan {
  tools: number;
  quarantined: string[];
  warning?: string;
}

const SCAN_TIMEOUT_MS = 10_000;

/**
 * Lists a just-registered server's tools with its own credential and pins them, the
 * guardrail scanning every new or changed description, so a poisoned tool is quarantined
 * before any user sees it. Bounded: each upstream exchange waits at most
 * min(UPSTREAM_TIMEOUT_MS, 10 s). Servers reached with each user's own OAuth token are
 * scanned on first use instead (there is no credential of the server's own to list with).
 */
export async function scanAtRegistration(env: Env, context: ApiContext, serverId: string, authMode: string): Promise<ToolScan> {
  if (authMode === "oauth") return { tools: 0, quarantined: [], warning: "Tools are listed with each user's own OAuth token: they are pinned and scanned when a user first lists them" };
  const org = orgOf(context);
  const writes: Promise<unknown>[] = [];
  const registry = await load(env, org.id);
  const server = [...registry.servers.values()].find((s) => s.id === serverId);
  if (!server) return { tools: 0, quarantined: [], warning: "The server was removed while it was being scanned" };
  const call: Call = {
    env, waitUntil: (promise) => void writes.push(promise), org, principal: context.principal, requestId: context.requestId,
    configVersion: context.configVersion, registry, protocolVersion: null, accept: null, lastEventId: null,
    timeoutMs: Math.min(Number(env.UPSTREAM_TIMEOUT_MS) || SCAN_TIMEOUT_MS, SCAN_TIMEOUT_MS), attributes: {}, decisions: [],
  };
  try {
    const { member, protocolVersion } = await openUpstream(call, server);
    const listing = { ...call, protocolVersion };
    const tools = await listUpstreamTools(listing, member);
    const usable = await usableTools(listing, server, tools);
    if (server.transport === "streamable_http" && member.sessionId) {
      writes.push(exchange(server, { method: "DELETE", sessionId: member.sessionId, protocolVersion, timeoutMs: call.timeoutMs }).then((r) => r.body?.cancel(), () => undefined));
    }
    await Promise.all(writes);
    return { tools: tools.length, quarantined: tools.filter((t) => !usable.has(t.name)).map((t) => t.name) };
  } catch (error) {
    await Promise.allSettled(writes);
    const why = error instanceof Error ? error.message : String(error);
    return { tools: 0, quarantined: [], warning: `The server's tools could not be listed (${why}); they will be pinned and scanned on first use` };
  }
}
