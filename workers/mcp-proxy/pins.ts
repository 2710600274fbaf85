import { and, eq } from "drizzle-orm";
import { database, schema } from "../../shared/db/index.ts";
import { createEventOutbox } from "../../shared/event-outbox.ts";
import { detectionFindingEvent, type AirlockEvent } from "../../shared/events.ts";
import { actorOf, type Call } from "./call.ts";
import { pinKey, type PinRow, type UpstreamServer } from "./registry.ts";

/** A tool as `tools/list` describes it. */
export interface Tool {
  name: string;
  description?: string;
  inputSchema?: unknown;
  annotations?: { destructiveHint?: boolean; [key: string]: unknown };
  [key: string]: unknown;
}

/** JSON with object keys sorted at every level, so equal definitions hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

const definitionOf = (tool: Tool) => ({ name: tool.name, description: tool.description ?? null, inputSchema: tool.inputSchema ?? null });

/**
 * Per isolate: a definition as the upstream serialises it → its hash. Lists repeat, so the
 * steady state costs one native JSON.stringify per tool, not a canonicalisation and a digest.
 */
const hashes = new Map<string, string>();
const MAX_HASHES = 10_000;

export async function definitionHash(tool: Tool): Promise<string> {
  const raw = JSON.stringify([tool.name, tool.description ?? null, tool.inputSchema ?? null]);
  const known = hashes.get(raw);
  if (known) return known;
  const canonical = canonicalJson(definitionOf(tool));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (hashes.size >= MAX_HASHES) hashes.clear();
  hashes.set(raw, hash);
  return hash;
}

/**
 * Pins a server's listed tools and returns the names that may be used. First sight: the
 * definition is pinned, approved unless the guardrail blocks its description (then it is
 * quarantined as `flagged`). A definition different from the pin is quarantined as
 * `changed` and alerted. Quarantined tools stay hidden until an admin approves them.
 * The guardrail sees all new and changed definitions of one list in one call.
 */
export async function usableTools(call: Call, server: UpstreamServer, tools: Tool[]): Promise<Set<string>> {
  const { registry } = call;
  const now = Date.now();
  const usable = new Set<string>();
  const fresh: { tool: Tool; hash: string; pin: PinRow | undefined }[] = [];
  const hashed = await Promise.all(tools.map(async (tool) => ({ tool, hash: await definitionHash(tool) })));
  for (const { tool, hash } of hashed) {
    const pin = registry.pins.get(pinKey(server.id, tool.name));
    if (pin?.status === "approved" && pin.hash === hash) usable.add(tool.name);
    else if (!pin || (pin.hash !== hash && pin.pendingHash !== hash)) fresh.push({ tool, hash, pin });
  }
  if (fresh.length === 0) return usable;

  const inspection = await call.env.GUARDRAIL.inspect(
    { org_id: call.org.id, config_version: call.configVersion, request_id: call.requestId, direction: "tool_description", json: fresh.map(({ tool }) => definitionOf(tool)) },
    actorOf(call),
  );
  const flagged = new Set(
    inspection.findings.filter((f) => f.action === "block").map((f) => Number(/^\/(\d+)/.exec(f.path ?? "")?.[1] ?? -1)),
  );
  const failClosed = inspection.error !== undefined && inspection.action === "block";

  const db = database(call.env.DB);
  const writes: Promise<unknown>[] = [];
  fresh.forEach(({ tool, hash, pin }, index) => {
    const definition = definitionOf(tool);
    const blocked = failClosed || flagged.has(index);
    if (!pin) {
      const row: PinRow = {
        orgId: call.org.id, serverId: server.id, tool: tool.name, hash, status: blocked ? "quarantined" : "approved",
        reason: blocked ? "flagged" : null, pendingHash: blocked ? hash : null, pendingDefinition: blocked ? definition : null,
        firstSeenAt: now, updatedAt: now, approvedBy: null,
      };
      registry.pins.set(pinKey(server.id, tool.name), row);
      if (!blocked) usable.add(tool.name);
      writes.push(db.insert(schema.mcpToolPins).values(row).onConflictDoNothing());
      return;
    }
    const changed: PinRow = { ...pin, status: "quarantined", reason: blocked ? "flagged" : "changed", pendingHash: hash, pendingDefinition: definition, updatedAt: now };
    registry.pins.set(pinKey(server.id, tool.name), changed);
    writes.push(
      db.update(schema.mcpToolPins)
        .set({ status: changed.status, reason: changed.reason, pendingHash: hash, pendingDefinition: definition, updatedAt: now })
        .where(and(eq(schema.mcpToolPins.orgId, call.org.id), eq(schema.mcpToolPins.serverId, server.id), eq(schema.mcpToolPins.tool, tool.name))),
    );
    writes.push(alertDrift(call, server, tool.name, pin.status === "approved" ? "changed" : "changed again"));
  });
  call.waitUntil(Promise.all(writes).catch((error: unknown) => console.error(JSON.stringify({ level: "error", worker: "mcp-proxy", request_id: call.requestId, error: "pin write failed", detail: String(error) }))));
  return usable;
}

/** Pin-drift events go out with the isolate's other events, in one queue send per batch. */
const outbox = createEventOutbox<AirlockEvent>("mcp-proxy");

/** A rug pull is a finding of its own: one detection event, whatever the description scan says. */
function alertDrift(call: Call, server: UpstreamServer, tool: string, what: string): Promise<void> {
  const event = detectionFindingEvent({
    requestId: call.requestId, time: Date.now(), orgId: call.org.id, direction: "tool_description",
    finding: { detector: "tool_pin_drift", category: "tool_poisoning", rule: `${server.name}/${tool} ${what}`, start: 0, end: 0, score: 1, action: "block" },
    actor: actorOf(call),
  });
  return outbox.emit(call.env.EVENTS, event);
}
