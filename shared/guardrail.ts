import { z } from "zod";

/** The guardrail's vocabulary, shared by its callers (router, mcp-proxy) and the admin API. */
export const DIRECTIONS = ["prompt", "response", "tool_args", "tool_result", "tool_description", "hook"] as const;
export const DirectionSchema = z.enum(DIRECTIONS);
export type Direction = z.infer<typeof DirectionSchema>;

export const CATEGORIES = ["pii", "secret", "injection", "tool_poisoning", "exfiltration", "dangerous_command", "custom"] as const;
export const CategorySchema = z.enum(CATEGORIES);
export type Category = z.infer<typeof CategorySchema>;

/** Strongest first: the overall action of an inspection is the strongest of its findings'. */
export const ACTIONS = ["block", "redact", "alert", "log", "allow"] as const;
export const ActionSchema = z.enum(ACTIONS);
export type Action = z.infer<typeof ActionSchema>;

export const FindingSchema = z.object({
  detector: z.string(),
  category: CategorySchema,
  rule: z.string().optional(),
  /** JSON pointer to the string the finding is in, for `messages` and `json` inspections. */
  path: z.string().optional(),
  start: z.number().int(),
  end: z.number().int(),
  score: z.number(),
  action: ActionSchema,
});
export type Finding = z.infer<typeof FindingSchema>;

export const InspectInputSchema = z
  .object({
    org_id: z.string().min(1),
    /** The org's config version the caller saw (rules are cached by it). */
    config_version: z.number().int().nonnegative(),
    request_id: z.string().min(1),
    direction: DirectionSchema,
    text: z.string().optional(),
    messages: z.array(z.unknown()).optional(),
    json: z.unknown().optional(),
  })
  .refine((input) => [input.text, input.messages, input.json].filter((v) => v !== undefined).length === 1, {
    message: "exactly one of text, messages or json",
  });
export type InspectInput = z.infer<typeof InspectInputSchema>;

/** Findings a caller's own scan made, for airlock-guardrail to record and alert on. */
export const RecordFindingsInputSchema = z.object({
  org_id: z.string().min(1),
  request_id: z.string().min(1),
  direction: DirectionSchema,
  findings: z.array(FindingSchema),
});
export type RecordFindingsInput = z.infer<typeof RecordFindingsInputSchema>;

export interface InspectResult {
  action: Action;
  findings: Finding[];
  /** The content with every `redact` finding replaced; present when something was redacted. */
  redacted?: { text?: string; messages?: unknown[]; json?: unknown };
  /** Set when inspection itself failed; `action` then follows the org's fail mode. */
  error?: { code: string; message: string };
}

/** SSE dialects the streaming scanner understands (the provider's own framing and errors). */
export const STREAM_FORMATS = ["openai_chat", "openai_responses", "anthropic", "gemini"] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/** One alert on the `airlock-alerts` queue: what fired, where, never the matched value. */
export const AlertMessageSchema = z.object({
  org_id: z.string(),
  request_id: z.string(),
  time: z.number().int(),
  direction: DirectionSchema,
  action: ActionSchema,
  detector: z.string(),
  category: CategorySchema,
  score: z.number(),
  /** OCSF severity 1–6. */
  severity_id: z.number().int().min(1).max(6),
  /** `path` and offsets of the finding, for the analyst to locate it in the audit trail. */
  location: z.object({ path: z.string().optional(), start: z.number().int(), end: z.number().int() }),
  actor: z.object({ user_id: z.string().nullable(), email: z.string().nullable(), client: z.string().nullable() }),
});
export type AlertMessage = z.infer<typeof AlertMessageSchema>;
