/**
 * Which agent or client sent a request, from its User-Agent. First match wins, so the
 * specific agents come before the SDKs they are built on.
 */
const CLIENT_RULES: { name: string; pattern: RegExp }[] = [
  { name: "claude-code", pattern: /\bclaude-(?:cli|code)\/([\w.-]+)/i },
  { name: "codex", pattern: /\bcodex[_-](?:cli[_-]rs|cli|exec)?\/?([\w.-]+)?/i },
  { name: "cursor", pattern: /\bCursor\/([\w.-]+)/i },
  { name: "copilot", pattern: /\b(?:GitHubCopilot|copilot)[\w-]*\/([\w.-]+)/i },
  { name: "gemini-cli", pattern: /\bGeminiCLI\/([\w.-]+)/i },
  { name: "chatgpt-connector", pattern: /\bopenai-mcp\/([\w.-]+)/i },
  { name: "claude-connector", pattern: /\bClaude-User\/?([\w.-]+)?/i },
  { name: "mcp-inspector", pattern: /\bmcp-inspector\/?([\w.-]+)?/i },
  { name: "openai-sdk", pattern: /\bOpenAI\/(?:JS|Python) ([\w.-]+)/i },
  { name: "anthropic-sdk", pattern: /\bAnthropic\/(?:JS|Python) ([\w.-]+)/i },
  { name: "curl", pattern: /^curl\/([\w.-]+)/i },
  { name: "node", pattern: /^node(?:-fetch)?\/?([\w.-]+)?|^undici/i },
  { name: "python-requests", pattern: /^python-requests\/([\w.-]+)/i },
  { name: "browser", pattern: /^Mozilla\/5\.0 .*(?:Chrome|Firefox|Safari)\/([\w.]+)/ },
];

export interface ClientInfo {
  name: string;
  version?: string;
}

/** User agents seen by this isolate: an agent sends the same one on every call, and fourteen regexes per call add up. */
const seen = new Map<string, ClientInfo>();
const MAX_SEEN = 1_000;

export function detectClient(userAgent: string | null | undefined): ClientInfo {
  if (!userAgent) return { name: "unknown" };
  const hit = seen.get(userAgent);
  if (hit) return { ...hit };
  let client: ClientInfo = { name: "other" };
  for (const rule of CLIENT_RULES) {
    const match = rule.pattern.exec(userAgent);
    if (match) {
      client = match[1] ? { name: rule.name, version: match[1] } : { name: rule.name };
      break;
    }
  }
  if (seen.size >= MAX_SEEN) seen.clear();
  seen.set(userAgent, client);
  return { ...client };
}
