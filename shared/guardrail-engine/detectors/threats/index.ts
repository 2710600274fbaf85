import type { Detector } from "../types.ts";
import { dangerousCommand } from "./dangerous-command.ts";
import { exfiltration } from "./exfiltration.ts";
import { invisibleText } from "./invisible-text.ts";
import { promptInjection } from "./prompt-injection.ts";
import { toolPoisoning } from "./tool-poisoning.ts";

/** Detectors for text that steers a model or a tool: injection, poisoned tools, exfiltration, destructive commands. */
export const THREAT_DETECTORS: Detector[] = [promptInjection, invisibleText, toolPoisoning, exfiltration, dangerousCommand];
