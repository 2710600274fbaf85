import { principalKey, type Call } from "./call.ts";
import { jsonResponse, type Classified, type JsonRpcId } from "./jsonrpc.ts";
import type { UpstreamServer, VirtualServer } from "./registry.ts";
import { finalOf, post, unavailable, type Member } from "./relay.ts";
import { serveSingle } from "./single.ts";
import { internalId } from "./tools.ts";
import { UpstreamUnavailable } from "./upstream/streamable-http.ts";
import { serveVirtual, virtualMembers } from "./virtual.ts";

/**
 * Protocol 2026-07-28 (SEP-2575) drops `initialize` and `Mcp-Session-Id`: each request
 * stands alone and `server/discover` says what a server offers. Upstreams in use today
 * still want a session, so the gateway bridges: it initialises the upstream itself (as
 * 2025-11-25, declaring no client capabilities, so no sampling or elicitation) and keeps
 * that upstream session per isolate and principal. Nothing sticky: another replica opens
 * its own, and an upstream that ends one gets a fresh one on the next request.
 */
export const STATELESS_VERSION = "2026-07-28";
const BRIDGE_INIT = { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "airlock-gateway", version: "1.0.0" } };

export interface Bridge {
  member: Member;
  /** What the upstream negotiated: the `MCP-Protocol-Version` it is sent. */
  protocolVersion: string;
  /** Its `initialize` result (capabilities, serverInfo, instructions), for `server/discover`. */
  result: Record<string, unknown>;
}

const bridges = new Map<string, Promise<Bridge>>();
const MAX_BRIDGES = 1_000;
const bridgeKey = (call: Call, server: UpstreamServer) => `${call.org.id}/${call.configVersion}/${server.id}/${principalKey(call.principal)}`;

/** A session of the gateway's own on an upstream (also used to scan a server's tools when it is registered). */
export async function openUpstream(call: Call, server: UpstreamServer): Promise<Bridge> {
  const setup: Call = { ...call, protocolVersion: null, accept: null, lastEventId: null };
  const id = internalId("init");
  const upstream = await post(setup, { server, sessionId: null }, { jsonrpc: "2.0", id, method: "initialize", params: BRIDGE_INIT });
  const sessionId = upstream.headers.get("mcp-session-id");
  const answer = await finalOf(server.name, id, upstream, call.timeoutMs);
  if (!answer.result) throw new UpstreamUnavailable(`refused the gateway's initialize (${answer.error?.message ?? "no result"})`);
  const protocolVersion = typeof answer.result.protocolVersion === "string" ? answer.result.protocolVersion : BRIDGE_INIT.protocolVersion;
  const member: Member = { server, sessionId, init: BRIDGE_INIT };
  if (server.transport === "streamable_http") {
    const initialized = await post({ ...setup, protocolVersion }, member, { jsonrpc: "2.0", method: "notifications/initialized" });
    await initialized.body?.cancel();
  }
  return { member, protocolVersion, result: answer.result };
}

function bridge(call: Call, server: UpstreamServer): Promise<Bridge> {
  const key = bridgeKey(call, server);
  const known = bridges.get(key);
  if (known) return known;
  if (bridges.size >= MAX_BRIDGES) bridges.clear();
  const opening = openUpstream(call, server);
  opening.catch(() => bridges.get(key) === opening && bridges.delete(key));
  bridges.set(key, opening);
  return opening;
}

const forget = (call: Call, servers: UpstreamServer[]) => servers.forEach((server) => bridges.delete(bridgeKey(call, server)));

/**
 * One sessionless request, served as in a session over the gateway's bridged upstream
 * sessions. An upstream that ended one (404: it processed nothing) gets a fresh one and
 * the request once more, since a 2026-07-28 client has no initialize to answer it with.
 */
export async function serveStateless(call: Call, server: UpstreamServer | undefined, virtual: VirtualServer | undefined, classified: Classified, id: JsonRpcId | null): Promise<Response> {
  const name = server?.name ?? virtual!.name;
  const servers = server ? [server] : virtualMembers(call, virtual!, null).map((m) => m.server);
  for (let attempt = 0; ; attempt++) {
    let bridged: Bridge[];
    try {
      // The session is reused; the server (and the credential it carries this request) is current.
      bridged = await Promise.all(servers.map(async (s) => {
        const known = await bridge(call, s);
        return { ...known, member: { ...known.member, server: s } };
      }));
    } catch (error) {
      return unavailable(id, name, error);
    }
    const upstreamCall: Call = { ...call, protocolVersion: bridged[0]?.protocolVersion ?? BRIDGE_INIT.protocolVersion };
    const sessions = { p: principalKey(call.principal), n: name, u: Object.fromEntries(bridged.map((b) => [b.member.server.name, b.member.sessionId])), i: BRIDGE_INIT };
    const response = server
      ? await serveSingle(upstreamCall, bridged[0]!.member, classified)
      : await serveVirtual(upstreamCall, virtual!, virtualMembers(call, virtual!, sessions), classified);
    if (response.status !== 404 || attempt === 1) return response;
    await response.body?.cancel();
    forget(call, servers);
  }
}

/** `server/discover`: the versions the gateway speaks, and what the server (or the composed members) offers. */
export async function discover(call: Call, server: UpstreamServer | undefined, virtual: VirtualServer | undefined, id: JsonRpcId, versions: string[]): Promise<Response> {
  const name = server?.name ?? virtual!.name;
  try {
    if (server) {
      const { result } = await bridge(call, server);
      const { capabilities = {}, serverInfo, instructions } = result as { capabilities?: object; serverInfo?: object; instructions?: string };
      return jsonResponse({ jsonrpc: "2.0", id, result: { supportedVersions: versions, capabilities, serverInfo: serverInfo ?? { name, version: "0.0.0" }, ...(instructions ? { instructions } : {}) } });
    }
    const results = await Promise.all(virtualMembers(call, virtual!, null).map((m) => bridge(call, m.server)));
    const capabilities: Record<string, object> = {};
    for (const { result } of results) {
      for (const [key, value] of Object.entries((result.capabilities as Record<string, object> | undefined) ?? {})) capabilities[key] = { ...capabilities[key], ...value };
    }
    return jsonResponse({ jsonrpc: "2.0", id, result: { supportedVersions: versions, capabilities, serverInfo: { name, version: "1.0.0" } } });
  } catch (error) {
    return unavailable(id, name, error);
  }
}
