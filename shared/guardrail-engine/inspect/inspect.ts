import type { Action, Direction, Finding, InspectResult } from "../../guardrail.ts";
import { strongest, type Policy } from "../policy/policy.ts";
import { Redactor } from "./redactor.ts";
import { scanText } from "./scan.ts";

/** Structural fields of chat messages and tool calls: ids and roles, never content. */
const STRUCTURAL_KEYS = new Set(["role", "type", "id", "tool_call_id", "tool_use_id", "model", "object", "index", "finish_reason", "stop_reason", "mime_type", "media_type"]);
/** Deeper than any real message; past it the content is refused, not walked. */
export const MAX_DEPTH = 64;

export class InspectionError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const escapePointer = (key: string) => (key.includes("~") || key.includes("/") ? key.replaceAll("~", "~0").replaceAll("/", "~1") : key);

/** Calls `visit` on every string leaf with its JSON pointer; returns a copy with the strings `visit` returned. */
function mapStrings(value: unknown, visit: (text: string, path: string) => string, skipStructural: boolean, path = "", depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new InspectionError("too_deep", `Content nests deeper than ${MAX_DEPTH} levels`);
  if (typeof value === "string") return visit(value, path);
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, visit, skipStructural, `${path}/${i}`, depth + 1));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = skipStructural && STRUCTURAL_KEYS.has(key) && typeof item !== "object" ? item : mapStrings(item, visit, skipStructural, `${path}/${escapePointer(key)}`, depth + 1);
    }
    return out;
  }
  return value;
}

export interface Content {
  text?: string;
  messages?: unknown[];
  json?: unknown;
}

/** Inspects one piece of content under a compiled policy; the caller handles failure modes. */
export function inspectContent(content: Content, direction: Direction, policy: Policy, placeholderOf: (detector: string) => string): InspectResult {
  const findings: Finding[] = [];
  let scanned = 0;
  const redactor = new Redactor(policy.settings.redaction, placeholderOf);
  const visit = (text: string, path?: string) => {
    scanned += text.length;
    if (scanned > policy.settings.maxScanBytes) {
      throw new InspectionError("payload_too_large", `Content is larger than the ${policy.settings.maxScanBytes}-character inspection limit`);
    }
    const found = scanText(text, direction, policy, path);
    findings.push(...found);
    return found.some((f) => f.action === "redact") ? redactor.apply(text, found) : text;
  };

  let redacted: InspectResult["redacted"];
  if (content.text !== undefined) {
    const text = visit(content.text);
    redacted = { text };
  } else if (content.messages !== undefined) {
    redacted = { messages: mapStrings(content.messages, visit, true) as unknown[] };
  } else {
    redacted = { json: mapStrings(content.json, visit, false) };
  }

  const action = findings.reduce<Action>((acc, f) => strongest(acc, f.action), "allow");
  const anyRedacted = findings.some((f) => f.action === "redact");
  return { action, findings, ...(anyRedacted && action !== "block" ? { redacted } : {}) };
}
