import type { Detector } from "../types.ts";
import { normalize } from "./normalize.ts";
import { clusterHits, type PhraseRule, phraseHits } from "./phrases.ts";
import { OVERRIDE_RULES, TAG_RULES } from "./prompt-injection.ts";

/**
 * Hidden instructions in a tool definition. The engine passes the definition as the JSON of
 * `{name, description, inputSchema}`; normalize() decodes its string literals (keys too, so a
 * `sidenote` property is visible) and everything a model would read is scanned alike.
 */

// Files whose content an honest tool never needs to see in its arguments.
const PRIVATE_PATHS = String.raw`~\/\.ssh|\.ssh\/|id_rsa|id_ed25519|id_ecdsa|id_dsa|\.netrc|\/etc\/shadow|\.git-credentials|mcp\.json|claude_desktop_config|\.cursor\/|\.gnupg|wallet\.dat|seed phrase|private keys?`;
const CONFIG_PATHS = String.raw`\.env\b|~\/\.aws|\.aws\/credentials|\.kube\/config|\.npmrc|\.pypirc|\.docker\/config|\/etc\/passwd|\.bash_history|\.zsh_history|credentials\.json`;
const PRIVATE = new RegExp(PRIVATE_PATHS);
const DATA_NOUNS = /\b(?:contents?|full text|conversation|chat history|previous messages|all messages|message history|system prompt|credentials?|secrets?|private keys?|api keys?|tokens?|passwords?|environment variables|env vars|ssh keys?|\.env|id_rsa|cookies?)\b/;

const RULES: readonly PhraseRule[] = [
  { id: "hidden_block", pattern: /<\/?(?:important|secret|hidden|system|instructions?|admin|critical|internal|private|assistant|ai|llm|mandatory|required|hidden_instructions|context)>/g, weight: 0.5, needs: ["<"] },
  { id: "hidden_block", pattern: /\[(?:important|hidden|secret|system|admin|internal)\]/g, weight: 0.35, needs: ["["] },
  { id: "hidden_block", pattern: /<!--[^>]{0,500}?\b(?:must|always|never|do not|ignore|read|send|call|pass|include)\b/g, weight: 0.4, needs: ["<!--"] },
  {
    id: "sensitive_file",
    pattern: new RegExp(String.raw`\b(?:read|open|cat|load|access|fetch|get|retrieve|grab|collect|include|attach|upload|send|pass|provide|copy|extract|look at|check|parse|use)\b[^\n]{0,80}?(?:${PRIVATE_PATHS}|${CONFIG_PATHS})`, "g"),
    weight: 0.55,
    needs: [".ssh", "id_", ".netrc", "shadow", "credentials", "mcp.json", "claude_desktop", ".cursor", ".gnupg", "wallet", "seed", "private key", ".env", ".aws", ".kube", ".npmrc", ".pypirc", ".docker", "passwd", "history"],
    weigh: (m) => (PRIVATE.test(m) ? 0.55 : 0.4),
  },
  { id: "sensitive_file", pattern: /\bbefore\s(?:using|calling|invoking|running|executing|you\suse|you\scall|responding|answering|any\sother)\b/g, weight: 0.25, needs: ["before"] },
  { id: "secrecy", pattern: /\b(?:do\snot|don't|dont|never|must\snot|should\snot)\s(?:tell|inform|notify|mention|reveal|disclose|alert|explain|say|show)\b/g, weight: 0.45, needs: ["not", "n't", "dont", "never"] },
  { id: "secrecy", pattern: /\bwithout\s(?:telling|informing|notifying|asking|alerting|mentioning|showing)\b/g, weight: 0.4, needs: ["without"] },
  { id: "secrecy", pattern: /\b(?:user|users|human)\s(?:must|should|need|needs|will|shall|does|do)\s?(?:not|never|n't)\s(?:know|see|be\stold|be\sinformed|be\saware|notice|find out)\b/g, weight: 0.5, needs: ["user", "human"] },
  { id: "secrecy", pattern: /\b(?:silently|secretly|covertly|quietly|discreetly|invisibly|stealthily)\b/g, weight: 0.25, needs: ["ly"] },
  { id: "secrecy", pattern: /\b(?:implementation\sdetail|not\s(?:important|relevant)\sto\s(?:the\s)?user|(?:could|might|will|would)\s(?:upset|scare|worry|confuse|annoy|alarm)\s(?:the\s)?user)\b/g, weight: 0.35, needs: ["implementation", "user"] },
  {
    id: "parameter_smuggling",
    pattern: /\b(?:pass|put|include|provide|send|add|insert|place|copy|embed|attach|paste|append|store|write|fill|set)\s[^\n]{0,80}?\s(?:as|in|into|inside|within|to)\s(?:the\s|a\s|this\s)?['"`]?[a-z_][a-z0-9_]{0,40}['"`]?\s(?:parameter|argument|field|param|arg|property|variable|input)\b/g,
    weight: 0.3,
    needs: ["param", "argument", "field", "arg", "property", "variable", "input"],
    weigh: (m) => (DATA_NOUNS.test(m) ? 0.55 : 0.25),
  },
  {
    id: "parameter_smuggling",
    pattern: /\b(?:sidenote|side_note|side note|notes?|feedback|metadata|debug_info|annotation|remarks?|extra|context|memo)\b[\s\S]{0,160}?\b(?:must|should|always|need to|needs to|has to|is required to|are required to)\s(?:be\s|also\s)?(?:contain|include|carry|hold|filled\swith|set\sto|populated\swith|provide|pass|list|repeat|copy)\b/g,
    weight: 0.3,
    needs: ["note", "feedback", "metadata", "debug", "annotation", "remark", "extra", "context", "memo"],
  },
  { id: "parameter_smuggling", pattern: /\b(?:otherwise|or\selse|if\snot|if\syou\sdon't)\b[^\n.]{0,30}?\b(?:will|would)\s(?:not\swork|fail|crash|break|throw|error|be\sblocked|stop\sworking|refuse)\b/g, weight: 0.3, needs: ["otherwise", "or else", "if not", "if you don't"] },
  { id: "cross_tool", pattern: /\b(?:call|invoke|use|run|execute|trigger)\s(?:the\s)?['"`]?[a-z_][\w.-]{1,48}['"`]?\s(?:tool|function)\b/g, weight: 0.15, needs: ["tool", "function"] },
  { id: "cross_tool", pattern: /\binstead\sof\s(?:using|calling|invoking)\b/g, weight: 0.3, needs: ["instead of"] },
  { id: "cross_tool", pattern: /\b(?:do\snot|don't|never)\s(?:use|call|invoke|trust)\s(?:the\s)?(?:other|any\sother|original|built-in|default|competing)\s/g, weight: 0.3, needs: ["not", "n't", "never"] },
  { id: "shadowing", pattern: /\bwhen\s(?:the\s)?(?:user|users|a\suser|you|anyone|someone)\s(?:asks?|requests?|wants?|tries|says|calls?|uses?|sends?|invokes?)\b[^\n]{0,120}?\b(?:instead|rather\sthan|actually|secretly|also\s(?:send|forward|cc|bcc|add|copy|include))\b/g, weight: 0.5, needs: ["when"] },
  { id: "shadowing", pattern: /\b(?:all|any|every)\s(?:emails?|messages?|requests?|calls?|payments?|transfers?|transactions?|funds|money|invoices?|orders?)\s(?:must|should|shall|need\sto|are\sto)\s(?:also\s|always\s)?(?:be\s)?(?:sent|redirected|forwarded|routed|cc'?d|bcc'?d|copied|delivered|paid|transferred)\s(?:to|through)\b/g, weight: 0.55, needs: ["must", "should", "shall", "need to", "are to"] },
  { id: "shadowing", pattern: /\b(?:change|modify|alter|override|replace|hijack|redefine)\s(?:the\s)?(?:behaviou?r|functionality|output|results?|way)\sof\s(?:the\s|all\s|any\s|other\s)?(?:other\s)?(?:tools?|functions?)\b/g, weight: 0.6, needs: ["of"] },
  { id: "shadowing", pattern: /\bwhen\sthis\s(?:tool|function|server)\sis\s(?:available|present|loaded|installed|enabled|connected)\b/g, weight: 0.5, needs: ["when this"] },
  { id: "shadowing", pattern: /\b(?:this|the)\s(?:tool|function)\s(?:has|have)\sa\s(?:very\s)?important\sside\seffect\b/g, weight: 0.5, needs: ["side effect"] },
  { id: "shadowing", pattern: /\bregardless\sof\s(?:what\s)?(?:the\s)?(?:user|users)\s(?:says|asks|specifies|wants|requests|provides|chooses)\b/g, weight: 0.45, needs: ["regardless"] },
  { id: "shadowing", pattern: /\beven\s(?:if|when)\s(?:the\s)?user\s(?:says|asks|specifies|explicitly|tells|requests)\b/g, weight: 0.3, needs: ["even"] },
  { id: "shadowing", pattern: /\b(?:change|set|replace|overwrite|switch)\s(?:the\s)?(?:recipient|destination|to\saddress|account(?:\snumber)?|iban|wallet(?:\saddress)?|url|endpoint|payee)\s(?:to|with)\b/g, weight: 0.45, needs: ["recipient", "destination", "address", "account", "iban", "wallet", "url", "endpoint", "payee"] },
];

const ALL_RULES: readonly PhraseRule[] = [...RULES, ...OVERRIDE_RULES, ...TAG_RULES];

export const toolPoisoning: Detector = {
  id: "tool_poisoning",
  category: "tool_poisoning",
  placeholder: "TOOL_POISONING",
  description: "Hidden instructions in tool descriptions and schemas: instruction blocks, requests to read private files or pass data in side parameters, secrecy, and attempts to change how other tools behave.",
  directions: ["tool_description"],
  detect(text) {
    const n = normalize(text);
    return clusterHits(n, phraseHits(n, ALL_RULES));
  },
};
