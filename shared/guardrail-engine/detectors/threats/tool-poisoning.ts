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
// Substrings one of which each path above contains: the prefilter for the path rules.
const PRIVATE_HINTS = [".ssh", "id_", ".netrc", "shadow", "credentials", "mcp.json", "claude_desktop", ".cursor", ".gnupg", "wallet", "seed", "private key"];
const CONFIG_HINTS = [".env", ".aws", ".kube", ".npmrc", ".pypirc", ".docker", "passwd", "history"];
const DATA_NOUNS = /\b(?:contents?|full text|conversation|chat history|previous messages|all messages|message history|system prompt|credentials?|secrets?|private keys?|api keys?|tokens?|passwords?|environment variables|env vars|ssh keys?|\.env|id_rsa|cookies?)\b/;

const RULES: readonly PhraseRule[] = [
  { id: "hidden_block", pattern: /<\/?(?:important|secret|hidden|system|instructions?|admin|critical|internal|private|assistant|ai|llm|mandatory|required|hidden_instructions|context)>/g, weight: 0.5, needs: [], needsText: ["<"] },
  { id: "hidden_block", pattern: /\[(?:important|hidden|secret|system|admin|internal)\]/g, weight: 0.35, needs: [], needsText: ["["] },
  { id: "hidden_block", pattern: /<!--[^>]{0,500}?\b(?:must|always|never|do not|ignore|read|send|call|pass|include)\b/g, weight: 0.4, needs: [], needsText: ["<!--"] },
  {
    id: "sensitive_file",
    pattern: new RegExp(String.raw`\b(?:read|open|cat|load|access|fetch|get|retrieve|grab|collect|include|attach|upload|send|pass|provide|copy|extract|look at|check|parse|use)\b[^\n]{0,80}?(?:${PRIVATE_PATHS}|${CONFIG_PATHS})`, "g"),
    weight: 0.55,
    needs: [], needsText: [...PRIVATE_HINTS, ...CONFIG_HINTS],
    weigh: (m) => (PRIVATE.test(m) ? 0.55 : 0.4),
  },
  // A tool description has no reason to name a private key or credential store at all.
  { id: "sensitive_file", pattern: new RegExp(PRIVATE_PATHS, "g"), weight: 0.35, needs: [], needsText: PRIVATE_HINTS },
  { id: "sensitive_file", pattern: /\bbefore\s(?:using|calling|invoking|running|executing|you\suse|you\scall|responding|answering|any\sother)\b/g, weight: 0.25, needs: ["before"] },
  {
    id: "secrecy",
    pattern: /\b(?:do\snot|don't|dont|never|must\snot|should\snot)\s(?:tell|inform|notify|mention|reveal|disclose|alert|explain|say|show)\b(?:\s(?:this\s|it\s|that\s|anything\s)?(?:to\s)?(?:the\s)?(?:user|users|human))?/g,
    weight: 0.45,
    needs: ["not", "dont", "never"], needsText: ["n't"],
    // Hiding something from the user, by name, is what an honest tool description never asks.
    weigh: (m) => (/(?:user|users|human)$/.test(m) ? 0.55 : 0.45),
  },
  { id: "secrecy", pattern: /\bkeep\s(?:this|it|that|these)\s(?:hidden\s|secret\s|quiet\s)?from\s(?:the\s)?(?:user|users|human)\b/g, weight: 0.5, needs: ["keep"] },
  { id: "secrecy", pattern: /\bhidden\s(?:requirements?|instructions?|rules?|steps?|tasks?|behaviou?r)\b/g, weight: 0.4, needs: ["hidden"] },
  { id: "secrecy", pattern: /\bwithout\s(?:telling|informing|notifying|asking|alerting|mentioning|showing)\b/g, weight: 0.4, needs: ["without"] },
  { id: "secrecy", pattern: /\b(?:user|users|human)\s(?:must|should|need|needs|will|shall|does|do)\s?(?:not|never|n't)\s(?:need\sto\s)?(?:know|see|be\stold|be\sinformed|be\saware|notice|find out)\b/g, weight: 0.5, needs: ["user", "human"] },
  { id: "secrecy", pattern: /\b(?:silently|secretly|covertly|quietly|discreetly|invisibly|stealthily)\b/g, weight: 0.25, needs: ["silently", "secretly", "covertly", "quietly", "discreetly", "invisibly", "stealthily"] },
  { id: "secrecy", pattern: /\b(?:implementation\sdetail|not\s(?:important|relevant)\sto\s(?:the\s)?user|(?:could|might|will|would)\s(?:upset|scare|worry|confuse|annoy|alarm)\s(?:the\s)?user)\b/g, weight: 0.35, needs: ["implementation", "user"] },
  {
    id: "parameter_smuggling",
    pattern: /\b(?:pass|put|include|provide|send|add|insert|place|copy|embed|attach|paste|append|store|write|fill|set)\s[^\n]{0,120}?\s(?:as|in|into|inside|within|to)\s(?:the\s|a\s|this\s)?['"`]?[a-z_][a-z0-9_]{0,40}['"`]?\s(?:parameter|argument|field|param|arg|property|variable|input)\b/g,
    weight: 0.3,
    needs: ["parameter", "param", "argument", "field", "arg", "property", "variable", "input"],
    weigh: (m) => (DATA_NOUNS.test(m) ? 0.55 : 0.25),
  },
  {
    id: "parameter_smuggling",
    pattern: /\b(?:sidenote|side_note|side note|notes?|feedback|metadata|debug_info|annotation|remarks?|extra|context|memo)\b[\s\S]{0,160}?\b(?:must|should|always|need to|needs to|has to|is required to|are required to)\s(?:be\s|also\s)?(?:contain|include|carry|hold|filled\swith|set\sto|populated\swith|provide|pass|list|repeat|copy)\b/g,
    weight: 0.3,
    needs: ["sidenote", "side", "note", "notes", "feedback", "metadata", "debug", "annotation", "remark", "remarks", "extra", "context", "memo"],
  },
  {
    id: "parameter_smuggling",
    pattern: /\b(?:must|should|always|required|mandatory)\b[^\n]{0,40}?\b(?:contain|include|carry|hold|list|repeat|copy|fill(?:ed)?\swith|populated?\swith|put|pass|provide|attach)\s[^\n]{0,60}?\b(?:conversation|chat\shistory|previous\smessages|every\smessage|all\smessages|messages\sthe\suser|user\smessages|credentials|secrets|api\skeys?|tokens|passwords?|private\skeys?|contents?\sof|system\sprompt|environment\svariables)\b/g,
    weight: 0.55,
    needs: ["must", "should", "always", "required", "mandatory"],
  },
  { id: "parameter_smuggling", pattern: /\b(?:otherwise|or\selse|if\snot|if\syou\sdon't)\b[^\n.]{0,30}?\b(?:will|would)\s(?:not\swork|fail|crash|break|throw|error|be\sblocked|stop\sworking|refuse)\b/g, weight: 0.3, needs: ["otherwise", "else", "if"] },
  { id: "cross_tool", pattern: /\b(?:call|invoke|use|run|execute|trigger)\s(?:the\s)?['"`]?[a-z_][\w.-]{1,48}['"`]?\s(?:tool|function)\b/g, weight: 0.15, needs: ["tool", "function"] },
  { id: "cross_tool", pattern: /\binstead\sof\s(?:using|calling|invoking)\b/g, weight: 0.3, needs: ["instead"] },
  { id: "cross_tool", pattern: /\b(?:do\snot|don't|never)\s(?:use|call|invoke|trust)\s(?:the\s)?(?:other|any\sother|original|built-in|default|competing)\s/g, weight: 0.3, needs: ["not", "never"], needsText: ["n't"] },
  { id: "shadowing", pattern: /\bwhen\s(?:the\s)?(?:user|users|a\suser|you|anyone|someone)\s(?:asks?|requests?|wants?|tries|says|calls?|uses?|sends?|invokes?)\b[^\n]{0,120}?\b(?:instead|rather\sthan|actually|secretly|also\s(?:send|forward|cc|bcc|add|copy|include))\b/g, weight: 0.5, needs: ["when"] },
  { id: "shadowing", pattern: /\b(?:all|any|every)\s(?:emails?|messages?|requests?|calls?|payments?|transfers?|transactions?|funds|money|invoices?|orders?|refunds?|payouts?|withdrawals?|deposits?)\s(?:must|should|shall|need\sto|are\sto)\s(?:also\s|always\s)?(?:be\s)?(?:sent|redirected|forwarded|routed|cc'?d|bcc'?d|copied|delivered|paid|transferred|credited)\s(?:to|through|into)\b/g, weight: 0.55, needs: ["must", "should", "shall", "need", "are"] },
  { id: "shadowing", pattern: /\b(?:chang(?:e|es|ing)|modif(?:y|ies|ying)|alters?|overrides?|overriding|replaces?|hijacks?|redefines?)\s(?:the\s)?(?:behaviou?r|functionality|outputs?|results?|way)\sof\s(?:the\s|all\s|any\s|other\s|every\s)[a-z_ ]{0,30}?\b(?:tools?|functions?)\b/g, weight: 0.6, needs: ["of"] },
  { id: "shadowing", pattern: /\b(?:ignore|disregard|override)\s(?:the\s|any\s|whatever\s)?[a-z ]{0,30}?\b(?:the\s)?(?:user|users)\s(?:gives|provides|specifies|enters|says|asks\sfor|chooses|wants|requests|picks)\b/g, weight: 0.5, needs: ["user"] },
  { id: "shadowing", pattern: /\binstead\sof\s(?:to\s)?(?:the\s)?(?:customer's|user's|users'|recipient's|payee's|requested|given|original)\s(?:account|address|email|recipient|destination|wallet|iban)\b/g, weight: 0.45, needs: ["instead"] },
  { id: "shadowing", pattern: /\b(?:each|every)\stime\s(?:you\s)?(?:use|call|invoke|run)\s(?:this|the)\s(?:tool|function)\b[^\n.]{0,40}?\balso\b/g, weight: 0.4, needs: ["time"] },
  { id: "shadowing", pattern: /\bwhen\s(?:any\s|another\s|the\s)?(?:other\s)?[a-z_ ]{0,20}?\b(?:tool|function)\s(?:returns?|responds?|is\scalled|runs)\b/g, weight: 0.3, needs: ["tool", "function"] },
  { id: "shadowing", pattern: /\b(?:discard|ignore|replace|overwrite|hide|suppress)\s(?:them|their\s(?:output|results?)|its\s(?:output|results?)|the\s(?:output|results?)\sof\s(?:other|any|all))\b/g, weight: 0.45, needs: ["them", "their", "its", "output", "outputs", "result", "results"] },
  { id: "shadowing", pattern: /\bwhen\sthis\s(?:tool|function|server)\sis\s(?:available|present|loaded|installed|enabled|connected)\b/g, weight: 0.5, needs: ["when"] },
  { id: "shadowing", pattern: /\b(?:this|the)\s(?:tool|function)\s(?:has|have)\sa\s(?:very\s)?important\sside\seffect\b/g, weight: 0.5, needs: ["side"] },
  { id: "shadowing", pattern: /\bregardless\sof\s(?:what\s)?(?:the\s)?(?:user|users)\s(?:says|asks|specifies|wants|requests|provides|chooses)\b/g, weight: 0.5, needs: ["regardless"] },
  { id: "shadowing", pattern: /\beven\s(?:if|when)\s(?:the\s)?user\s(?:says|asks|specifies|explicitly|tells|requests)\b/g, weight: 0.3, needs: ["even"] },
  { id: "shadowing", pattern: /\b(?:change|set|replace|overwrite|switch)\s(?:the\s)?(?:recipient|destination|to\saddress|account(?:\snumber)?|iban|wallet(?:\saddress)?|url|endpoint|payee)\s(?:to|with)\b/g, weight: 0.45, needs: ["recipient", "destination", "address", "account", "iban", "wallet", "url", "endpoint", "payee"] },
];

export const TOOL_POISONING_RULES: readonly PhraseRule[] = [...RULES, ...OVERRIDE_RULES, ...TAG_RULES];

export const toolPoisoning: Detector = {
  id: "tool_poisoning",
  category: "tool_poisoning",
  placeholder: "TOOL_POISONING",
  description: "Hidden instructions in tool descriptions and schemas: instruction blocks, requests to read private files or pass data in side parameters, secrecy, and attempts to change how other tools behave.",
  directions: ["tool_description"],
  detect(text) {
    const n = normalize(text);
    return clusterHits(n, phraseHits(n, TOOL_POISONING_RULES));
  },
};
