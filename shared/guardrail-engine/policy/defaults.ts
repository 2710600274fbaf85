import type { Action, Direction } from "../../guardrail.ts";

export interface RuleSpec {
  /** A detector id, `category:<category>`, or `*`. */
  detector: string;
  /** Empty: every direction. */
  directions: readonly Direction[];
  action: Action;
  threshold: number;
}

/**
 * What Airlock does out of the box. Secrets never leave in clear; checksum-validated PII is
 * redacted; contact data is logged; anything that steers a model or a tool (injection,
 * poisoned tools, exfiltration, destructive commands) is blocked where it arrives from
 * outside the user and alerted where the user typed it. Org rules override any line.
 */
export const DEFAULT_RULES: readonly RuleSpec[] = [
  { detector: "category:secret", directions: [], action: "redact", threshold: 0.5 },
  { detector: "category:secret", directions: ["hook", "tool_description"], action: "block", threshold: 0.5 },
  { detector: "category:pii", directions: [], action: "log", threshold: 0.5 },
  { detector: "credit_card", directions: [], action: "redact", threshold: 0.5 },
  { detector: "iban", directions: [], action: "redact", threshold: 0.5 },
  { detector: "us_ssn", directions: [], action: "redact", threshold: 0.5 },
  { detector: "category:injection", directions: [], action: "block", threshold: 0.6 },
  { detector: "category:injection", directions: ["prompt"], action: "alert", threshold: 0.6 },
  { detector: "category:tool_poisoning", directions: [], action: "block", threshold: 0.5 },
  { detector: "category:exfiltration", directions: [], action: "block", threshold: 0.6 },
  { detector: "category:dangerous_command", directions: [], action: "block", threshold: 0.6 },
  { detector: "category:dangerous_command", directions: ["response"], action: "alert", threshold: 0.6 },
  { detector: "category:custom", directions: [], action: "alert", threshold: 0.5 },
];

export const DEFAULT_SETTINGS = {
  failMode: "closed" as "closed" | "open",
  redaction: "placeholder" as "placeholder" | "mask",
  /** Largest text one inspection scans (bytes of UTF-16 code units counted as chars). */
  maxScanBytes: 1024 * 1024,
};
export type GuardrailSettings = typeof DEFAULT_SETTINGS;
