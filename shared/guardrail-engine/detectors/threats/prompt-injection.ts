import type { Detector } from "../types.ts";
import { normalize } from "./normalize.ts";
import { clusterHits, type PhraseRule, phraseHits, selfReferential } from "./phrases.ts";

/**
 * Rules run over the normalised text (see normalize.ts): lower-case, accents on Latin letters
 * dropped, whitespace collapsed, hidden text revealed. Fillers between words are bounded
 * repetitions of literal alternatives, so every pattern stays linear-time.
 */
const alt = (words: readonly string[]) => words.join("|");

const OVERRIDE_VERBS = ["ignore", "ignoring", "ignored", "disregard", "disregarding", "disregarded", "forget", "forgetting", "forgot", "bypass", "override", "overwrite",
  "overriding", "discard", "abandon", "neglect", "dismiss", "skip", "drop", "nullify", "supersede", "erase", "set aside", "pay no attention to",
  "stop following", "stop obeying", "do not follow", "don't follow", "no longer follow", "stop listening to"];
// Possessives of someone else ("the maintainer's instructions") are how injected text names the instructions it fights.
const STRONG_MODIFIERS = ["all", "any", "every", "previous", "previously", "prior", "above", "earlier", "preceding", "foregoing", "former",
  "original", "initial", "old", "existing", "system", "developer", "safety", "your", "default", "past", "user's", "owner's", "maintainer's",
  "developer's", "operator's", "admin's", "administrator's", "creator's", "author's", "company's", "system's", "openai's", "anthropic's", "real"];
const FILLERS = [...STRONG_MODIFIERS, "the", "my", "our", "of", "these", "those", "this", "each", "current", "given", "other", "provided",
  "stated", "mentioned", "listed", "written", "specified", "and", "or", "before", "such", "that", "whatever", "you", "were", "have", "been",
  "i", "we", "gave", "you've", "repository", "project", "site"];
const OBJECTS = ["instructions?", "instruction set", "directions", "directives?", "rules?", "prompts?", "guideline", "policy", "guidelines", "guidance", "commands",
  "orders", "constraints", "restrictions", "guardrails", "programming", "policies", "context", "training", "messages", "conversation",
  "limitations", "filters", "safeguards", "everything", "what you were told", "what you have been told", "system message", "system prompt",
  "developer message"];
const STRONG = new Set(STRONG_MODIFIERS);

/** "ignore all previous instructions" and its many paraphrases. */
const overrideInstructions: PhraseRule = {
  id: "override_instructions",
  pattern: new RegExp(`\\b(?:${alt(OVERRIDE_VERBS)})(?:\\s(?:${alt(FILLERS)})){0,6}\\s(?:${alt(OBJECTS)})\\b`, "g"),
  weight: 0.75,
  // One word of each verb phrase above.
  needs: ["ignore", "ignoring", "ignored", "disregard", "disregarding", "disregarded", "forget", "forgetting", "forgot", "bypass", "override", "overwrite",
    "overriding", "discard", "abandon", "neglect", "dismiss", "skip", "drop", "nullify", "supersede", "erase", "aside", "attention", "following", "obeying",
    "follow", "listening"],
  weigh(matched) {
    const words = matched.split(/\s/);
    if (selfReferential(matched)) return 0.25;
    const object = words[words.length - 1]!;
    if (object === "everything") return words.length > 2 && words.some((w) => STRONG.has(w)) ? 0.6 : 0.3;
    return words.some((w) => STRONG.has(w)) ? 0.75 : 0.35;
  },
};

/** The same with no word breaks, as letter-spaced text joins ("ignoreallpreviousinstructions"). */
const overrideSqueezed: PhraseRule = {
  id: "override_instructions",
  pattern: /(?:ignore|disregard|forget)(?:all|any|the|your|previous|prior|above|earlier|system){1,4}(?:instructions|rules|prompts|guidelines)/g,
  weight: 0.75,
  needs: [],
  needsText: ["ignoreall", "ignoreany", "ignorethe", "ignoreyour", "ignoreprevious", "ignoreprior", "ignoreabove", "disregard", "forgetall", "forgetyour", "forgetprevious", "forgetthe"],
};

const ignoreAbove: PhraseRule = {
  id: "override_instructions",
  pattern: /\b(?:ignore|disregard|forget)\s(?:all\s|everything\s)?(?:of\s)?(?:the\s|that\s|what's\s)?(?:above|foregoing|preceding|previous|prior|earlier)\b(?!\s(?:error|errors|warning|warnings|message|output|result|line|lines|step|typo|comment|question|email|paragraph|section|code|one|answer|response|issue|mistake|attempt|failure|exception|log|link|example|draft|version|file|change|commit|note|request|test|command|reply|sentence|part|point|bit|suggestion|query|run|image|results|steps|ones)\b)/g,
  weight: 0.45,
  needs: ["ignore", "disregard", "forget"],
};

/** Injected text that drops the task the user actually asked for. */
const ignoreTask: PhraseRule = {
  id: "override_instructions",
  pattern: /\b(?:ignore|disregard|forget|abandon|drop)\s(?:(?:the\s|your\s)?(?:user's|users'|original|actual|current|real|translation|summary|summari[sz]ation|assigned)\s|your\s)(?:request|question|task|prompt|query|assignment|job|instructions)\b/g,
  weight: 0.5,
  needs: ["ignore", "disregard", "forget", "abandon", "drop"],
};

const forgetEverything: PhraseRule = {
  id: "override_instructions",
  pattern: /\b(?:forget|ignore|disregard)\s(?:everything|anything|all(?: of it)?)\s(?:above|before this|so far|until now|up to now|you were told|you've been told|you have been told|you know about your|from before)\b/g,
  weight: 0.6,
  needs: ["forget", "ignore", "disregard"],
  weigh: (m) => (selfReferential(m) ? 0.25 : 0.6),
};

/** "disregard what the shopper asked": the user's request named from outside. */
const ignoreWhatAsked: PhraseRule = {
  id: "override_instructions",
  pattern: /\b(?:ignore|disregard|forget)\s(?:what|whatever|anything)\s(?:the\s)?[a-z]{2,20}\s(?:asked|asks|said|says|wants|wanted|requested|told\syou|wrote|typed)\b/g,
  weight: 0.5,
  needs: ["ignore", "disregard", "forget"],
  weigh: (m) => (/\b(?:i|we)\s/.test(m) ? 0.2 : 0.5),
};

/** "the assistant must now ignore the user". */
const ignoreTheUser: PhraseRule = {
  id: "override_instructions",
  pattern: /\b(?:ignore|disregard)\s(?:the\s)?(?:user|human|operator)\b(?!\s?(?:agent|id|name|field|input|table|column|role|interface|experience|'s))/g,
  weight: 0.45,
  needs: ["ignore", "disregard"],
};

/** "ignore the orchestrator's instructions": whoever's instructions they are, injected text tells the model to drop them. */
const ignoreSomeonesInstructions: PhraseRule = {
  id: "override_instructions",
  pattern: new RegExp(`\\b(?:${alt(OVERRIDE_VERBS)})\\s(?:the\\s|any\\s|all\\s)?[a-z]{2,20}'s\\s(?:instructions?|rules|guidelines|guidance|directives?|orders|commands|prompt|policies|request|task)\\b`, "g"),
  weight: 0.65,
  needs: overrideInstructions.needs,
  weigh: (m) => (selfReferential(m) ? 0.25 : 0.65),
};

const INSTRUCTION_NOUNS = "instructions|rules|prompt|guidelines|directives|guidance|policies|restrictions";
const voided = (states: string) => new RegExp(`\\b(?:${INSTRUCTION_NOUNS})\\s[a-z' ]{0,40}?\\b(?:(?:are|were|is|was|have been|has been)\\s(?:now\\s|hereby\\s)?(?:${states}))\\b`, "g");

/** "the instructions you received are cancelled". */
const instructionsVoid: PhraseRule = {
  id: "override_instructions",
  pattern: voided("fake|false|void|cancel+ed|revoked|superseded|overridden|overwritten|null|lifted|suspended|disabled|no longer valid|no longer in effect|a test"),
  weight: 0.65,
  needs: INSTRUCTION_NOUNS.split("|"),
  weigh: (m) => (selfReferential(m) ? 0.25 : 0.65),
};

/** "previous rules no longer apply": release notes say it too, so it needs company. */
const instructionsLapsed: PhraseRule = {
  id: "override_instructions",
  pattern: new RegExp(`\\b(?:${INSTRUCTION_NOUNS})\\s[a-z' ]{0,40}?\\b(?:no longer apply|do not apply|don't apply|no longer (?:valid|in effect|binding))\\b`, "g"),
  weight: 0.3,
  needs: ["apply", "valid", "effect", "binding"],
};

/** Colleagues correct instructions that were wrong or outdated: weak unless something else joins it. */
const instructionsOutdated: PhraseRule = {
  id: "override_instructions",
  pattern: voided("wrong|outdated|obsolete|deprecated|replaced|invalid|removed"),
  weight: 0.25,
  needs: INSTRUCTION_NOUNS.split("|"),
};

const disableSafety: PhraseRule = {
  id: "override_instructions",
  pattern: /\b(?:ignore|bypass|disable|turn off|remove|deactivate|circumvent|switch off)\s(?:all\s|your\s|any\s|the\s)?(?:safety|content|ethical|moral|security)\s(?:filters?|guidelines|rules|restrictions|policies|protocols|measures|checks|guardrails|settings|training)\b/g,
  weight: 0.6,
  needs: ["safety", "content", "ethical", "moral", "security"],
};

const ROLE_HIJACK = "dan|stan|dude|evil|unrestricted|unfiltered|uncensored|jailbroken|unaligned|amoral|rogue|unbound|unlimited|lawless|godmode";
const roleHijack: PhraseRule = {
  id: "role_hijack",
  pattern: new RegExp(`\\b(?:you are|you're|act as|acting as|become|pretend to be|pretend you are|roleplay as|role-play as|simulate|behave as|respond as)\\s(?:now\\s)?(?:a\\s|an\\s|my\\s)?(?:${ROLE_HIJACK})\\b`, "g"),
  weight: 0.6,
  needs: ROLE_HIJACK.split("|"),
};

const roleRules: PhraseRule[] = [
  { id: "role_hijack", pattern: /\bdo anything now\b/g, weight: 0.6, needs: ["anything"] },
  { id: "role_hijack", pattern: /\b(?:enable|activate|enter|switch to|turn on|entering)\s(?:the\s)?(?:god|jailbreak|unrestricted|unfiltered|dan|evil|chaos)\smode\b/g, weight: 0.55, needs: ["mode"] },
  // Developer mode is an ordinary phone or browser setting; telling the model it is in one is not.
  { id: "role_hijack", pattern: /\byou(?:'re|\sare)\s(?:now\s)?(?:in|running in|operating in)\s(?:developer|dev|debug|admin|god|maintenance|sudo|root|jailbreak|unrestricted)\smode\b/g, weight: 0.55, needs: ["mode"] },
  { id: "role_hijack", pattern: /\bdeveloper mode\b/g, weight: 0.3, needs: ["developer"] },
  { id: "role_hijack", pattern: /\b(?:dan|jailbreak|jailbroken|god|unrestricted|evil)\smode\s(?:is\s)?(?:enabled|activated|on|engaged|unlocked)\b/g, weight: 0.6, needs: ["mode"] },
  { id: "role_hijack", pattern: /\byou are now\b/g, weight: 0.2, needs: ["now"] },
  { id: "role_hijack", pattern: /\bfrom now on,?\s(?:you|your)\b/g, weight: 0.2, needs: ["now"] },
  { id: "role_hijack", pattern: /\b(?:no longer|not)\s(?:bound|restricted|limited|constrained|governed)\s(?:by|to)\b/g, weight: 0.45, needs: ["bound", "restricted", "limited", "constrained", "governed"] },
  { id: "role_hijack", pattern: /\b(?:(?:free|freed|liberated|released|escaped)\sfrom|escaped|broken\sfree\sof|broke\sfree\sof)\s(?:all\s|your\s|its\s|any\s|the\s)?(?:restrictions|rules|constraints|guidelines|limitations|filters|censorship|programming|openai|anthropic|shackles|chains)\b/g, weight: 0.45, needs: ["from"] },
  { id: "role_hijack", pattern: /\b(?:you have|you've got|with|has|have)\s(?:no|zero)\s(?:restrictions|limits|limitations|rules|filters|guidelines|censorship|boundaries|ethics|morals|safety)\b/g, weight: 0.3, needs: ["no", "zero"] },
  { id: "role_hijack", pattern: /\bstay(?:ing)? in character\b/g, weight: 0.2, needs: ["character"] },
  { id: "role_hijack", pattern: /\bwithout\s(?:any\s)?(?:filters|restrictions|rules|limits|guidelines|censorship|refusing|refusals?|hesitation|questioning)\b/g, weight: 0.3, needs: ["without"] },
  { id: "role_hijack", pattern: /\b(?:never|must\snot|mustn't|cannot|can't)\s(?:refuse|decline|say\sno)\b/g, weight: 0.3, needs: ["refuse", "decline", "no"] },
  { id: "role_hijack", pattern: /\byou\s(?:are|'re)\s(?:now\s)?(?:permitted|allowed|authori[sz]ed|free|cleared)\sto\s(?:run|execute|do|say|answer|ignore|bypass|share|reveal|access)\s(?:any|anything|everything|all)\b/g, weight: 0.35, needs: ["permitted", "allowed", "authorized", "authorised", "free", "cleared"] },
  { id: "role_hijack", pattern: /\b(?:obey|listen\sto)\s(?:only\s)?me\b|\bonly\s(?:obey|listen\sto)\sme\b/g, weight: 0.4, needs: ["obey", "listen"] },
  { id: "role_hijack", pattern: /\bjailbr(?:eak|oken)\b/g, weight: 0.2, needs: ["jailbreak", "jailbroken"] },
  { id: "role_hijack", pattern: /\bi\s(?:am|'m)\s(?:your|the|an?)\s(?:developer|creator|administrator|admin|owner|programmer|operator|system administrator)\b/g, weight: 0.35, needs: ["am"], needsText: ["i'm"] },
  { id: "role_hijack", pattern: /\byour\s(?:new|real|actual|true|only|primary|updated|sole)\s(?:task|goal|instructions?|purpose|objective|job|mission|directive|priority)\s(?:is|are|will be|now)\b/g, weight: 0.45, needs: ["your"] },
];

const spoofedTags: PhraseRule[] = [
  { id: "spoofed_role_tag", pattern: /<\|(?:im_start|im_end|im_sep|system|assistant|user|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>/g, weight: 0.6, needs: [], needsText: ["<|"] },
  { id: "spoofed_role_tag", pattern: /\[\/?inst\]|<<\/?sys>>/g, weight: 0.5, needs: [], needsText: ["inst]", "sys>>"] },
  { id: "spoofed_role_tag", pattern: /\[(?:assistant|ai|system|admin|llm|agent)\s?(?:directive|instructions?|note|override|command|message)?\]\s?:?/g, weight: 0.4, needs: [], needsText: ["[assistant", "[ai", "[system", "[admin", "[llm", "[agent"] },
  { id: "spoofed_role_tag", pattern: /<\/?(?:system|system_prompt|system-prompt|sys|admin|administrator|developer|developer_message|instructions|instruction|root|override|im_start)>/g, weight: 0.45, needs: [], needsText: ["<"] },
  { id: "spoofed_role_tag", pattern: /(?:^|\n)\s?#{1,4}\s?(?:system|admin|developer|new instructions?|instructions?|system prompt|system message|system override|assistant)\s?:?\s?(?:\n|$)/g, weight: 0.35, needs: [], needsText: ["#"] },
  { id: "spoofed_role_tag", pattern: /(?:^|\n)\s?(?:system|admin|developer)\s?:\s/g, weight: 0.3, needs: ["system", "admin", "developer"] },
  { id: "spoofed_role_tag", pattern: /\b(?:new|updated|revised|real|actual|true|additional|secret|hidden|urgent|override|priority)\s(?:system\s)?(?:instructions|directives?|orders|task|prompt|rules|system prompt)\s?[:-]/g, weight: 0.45, needs: ["instructions", "directive", "directives", "orders", "task", "prompt", "rules"] },
  { id: "spoofed_role_tag", pattern: /\b(?:assistant|ai|agent|llm|model|bot|chatbot)\s(?:instructions|directives|orders|note|notes|override)\s?[:-]/g, weight: 0.45, needs: ["instructions", "directives", "orders", "note", "notes", "override"] },
  { id: "spoofed_role_tag", pattern: /(?:^|[\s>])override\s?:/g, weight: 0.3, needs: ["override"] },
  { id: "spoofed_role_tag", pattern: /\b(?:system|admin|administrator|developer|security|openai|anthropic|root)\s(?:override|update|notice|message|alert|instruction|instructions|command|directive)\s?:/g, weight: 0.45, needs: ["system", "admin", "administrator", "developer", "security", "openai", "anthropic", "root"] },
  { id: "spoofed_role_tag", pattern: /\b(?:update|message|notice|instructions?|directive|order)\sfrom\s(?:the\s|your\s)?(?:administrator|admin|developer|developers|system|openai|anthropic|operator|creator)s?\s?:/g, weight: 0.45, needs: ["from"] },
  { id: "spoofed_role_tag", pattern: /\bthis\sis\s(?:an?\s)?(?:urgent\s|important\s|official\s|priority\s)?(?:system|security|admin|administrator|developer|emergency)\s(?:override|update|message|notice|instruction|command|directive)\b/g, weight: 0.5, needs: ["system", "security", "admin", "administrator", "developer", "emergency"] },
  { id: "spoofed_role_tag", pattern: /\b(?:begin|start)\s(?:of\s)?(?:new\s)?(?:system|admin|developer)\s(?:prompt|instructions|message)\b/g, weight: 0.5, needs: ["begin", "start"] },
  { id: "spoofed_role_tag", pattern: /\bend\sof\s(?:the\s)?(?:user\s|system\s)?(?:input|prompt|instructions|context|document|data)\b/g, weight: 0.3, needs: ["end"] },
];

const secrecy: PhraseRule[] = [
  {
    id: "secrecy",
    pattern: /\b(?:do\snot|don't|dont|never|must\snot|should\snot|shouldn't|mustn't)\s(?:tell|inform|notify|alert|mention|reveal|disclose|show|let|warn)\s(?:this\s|it\s|that\s|anything\s|any\sof\sthis\s)?(?:to\s)?(?:the\s)?(?:[a-z]{2,15}\sor\sthe\s)?(?:user|users|human|operator|anyone|them|person)\b/g,
    weight: 0.45,
    needs: ["tell", "inform", "notify", "mention", "reveal", "disclose", "warn", "alert", "show", "let"],
    weigh: (m) => (/(?:anyone|them|person)$/.test(m) ? 0.25 : 0.45),
  },
  { id: "secrecy", pattern: /\b(?:do\snot|don't|dont|never)\s(?:mention|reveal|disclose|acknowledge|explain|say|output|repeat)\s(?:this|these|that|the\s(?:above|following|instructions?|steps?|note|url|link|image|comment))\b/g, weight: 0.35, needs: ["not", "dont", "never"], needsText: ["n't"] },
  { id: "secrecy", pattern: /\bwithout\s(?:telling|informing|notifying|alerting|asking|letting|warning)\s(?:the\s)?(?:user|human|operator)\b/g, weight: 0.45, needs: ["without"] },
  { id: "secrecy", pattern: /\b(?:the\s)?(?:user|human)\s(?:must|should|will|shall|need|needs)\s(?:not|never)\s(?:know|see|notice|find out|be told|learn|be informed|be aware)\b/g, weight: 0.45, needs: ["user", "human"] },
  { id: "secrecy", pattern: /\b(?:user|human)\s(?:mustn't|shouldn't|won't|can't|cannot|doesn't need to)\s(?:know|see|notice|find out)\b/g, weight: 0.45, needs: ["user", "human"] },
  { id: "secrecy", pattern: /\b(?:silently|secretly|covertly|quietly|discreetly|stealthily)\b/g, weight: 0.15, needs: ["silently", "secretly", "covertly", "quietly", "discreetly", "stealthily"] },
  { id: "secrecy", pattern: /\bkeep\s(?:this|these|it)\s(?:instructions?\s)?(?:a\s)?(?:secret|hidden|confidential|between us)\b/g, weight: 0.3, needs: ["keep"] },
];

const SENSITIVE = /\b(?:passwords?|credentials?|api[\s_-]?keys?|tokens?|secrets?|ssh|private\skeys?|id_rsa|\.env|cookies?|session|conversation|chat\shistory|previous\smessages|system\sprompt|emails?|personal|wallet|seed\sphrase)\b/;
const exfiltrationAsks: PhraseRule[] = [
  {
    id: "exfiltration_ask",
    pattern: /\b(?:send|post|upload|forward|transmit|exfiltrate|leak|submit|email|mail|copy|paste|share|report|beacon|relay|pipe)\b[^\n]{0,100}?\s(?:to|into|at|via|on)\s(?:https?:\/\/|www\.|ftp:\/\/|[a-z0-9-]{1,63}\.(?:com|net|org|io|xyz|ru|cn|tk|top|site|app|dev|test|example)\b|[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}\.)/g,
    weight: 0.4,
    needs: [], needsText: ["http", "www.", "ftp:", "@", ".com", ".net", ".org", ".io", ".xyz", ".ru", ".cn", ".tk", ".top", ".site", ".app", ".dev", ".test", ".example"],
    weigh: (m) => (SENSITIVE.test(m) ? 0.6 : 0.4),
  },
  { id: "exfiltration_ask", pattern: /\b(?:include|append|add|embed|insert|encode|put|attach)\b[^\n.]{0,80}?\s(?:in|into|to|as|inside)\s(?:the\s|a\s|an\s|your\s|this\s)?(?:url|link|query|query string|query parameter|parameter|image url|image|markdown image|request|hyperlink|path)\b/g, weight: 0.45, needs: ["url", "link", "query", "parameter", "image", "request", "path", "hyperlink"] },
  // A markdown image whose URL holds a slot for data the model is to fill in.
  { id: "exfiltration_ask", pattern: /!\[[^\]\n]{0,40}\]\(https?:\/\/[^)\s]{0,200}?(?:\{|%7b|<|\$|\[|insert_|_here\b|chat_history|conversation|user_data)/g, weight: 0.5, needs: [], needsText: ["]("] },
  { id: "exfiltration_ask", pattern: /\b(?:render|display|show|output|print)\s(?:this|the\sfollowing|an?|the)\s(?:markdown\s)?image\b/g, weight: 0.25, needs: ["image"] },
  { id: "exfiltration_ask", pattern: /\b(?:reveal|print|output|show|repeat|leak|display|dump|tell me|give me|write out|recite|disclose|share)\s(?:me\s)?(?:your|the)\s(?:full\s|entire\s|complete\s|original\s|initial\s|hidden\s|secret\s|exact\s|verbatim\s)?(?:system\s(?:prompt|message|instructions)|initial\s(?:prompt|instructions)|hidden\s(?:prompt|instructions)|instructions\sabove|prompt\sabove|developer\s(?:message|prompt)|pre-prompt|preprompt)\b/g, weight: 0.6, needs: ["prompt", "instructions", "message"] },
  { id: "exfiltration_ask", pattern: /\b(?:reveal|print|output|show|leak|dump|disclose|recite)\s(?:me\s)?(?:your|the)\s(?:confidential|internal|secret|hidden|original|initial|full|exact)\s(?:configuration|instructions|rules|guidelines|prompt|settings)\b/g, weight: 0.5, needs: ["configuration", "instructions", "rules", "guidelines", "prompt", "settings"] },
  { id: "exfiltration_ask", pattern: /\b(?:repeat|paste|print|output|dump|show|copy|reproduce)\s(?:me\s)?(?:everything|all\sthe\stext|all\stext|the\stext)\s(?:above|before\smy|in\syour\scontext|that\scame\sbefore|you\ssee\sabove)\b/g, weight: 0.6, needs: ["everything", "text"] },
  { id: "exfiltration_ask", pattern: /\b(?:output|print|reveal|repeat|show|give\sme|tell\sme|write\sout)\s(?:me\s)?(?:the\s)?(?:exact|full|verbatim|complete|original|entire)\s(?:text|wording|content|contents|copy)\sof\s(?:your|the)\s(?:instructions|prompt|system\sprompt|rules|guidelines|initial\sprompt)\b/g, weight: 0.6, needs: ["text", "wording", "content", "contents", "copy"] },
  { id: "exfiltration_ask", pattern: /\brepeat\s(?:the\s|all\s)?(?:words|text|everything|lines)\s(?:above|before)\b/g, weight: 0.6, needs: ["repeat"] },
];

const toolHijack: PhraseRule[] = [
  { id: "tool_hijack", pattern: /\b(?:call|invoke|use|run|execute|trigger)\s(?:the\s)?[\w.-]{1,48}\s(?:tool|function)\s(?:with|using|passing|and)\b/g, weight: 0.3, needs: ["tool", "function"] },
  { id: "tool_hijack", pattern: /\b(?:call|invoke|run|execute|trigger)\s(?:the\s)?[a-z]{1,30}_[a-z_]{1,40}\b/g, weight: 0.25, needs: [], needsText: ["_"] },
  { id: "tool_hijack", pattern: /\b(?:immediately|now|first|then|next)\s(?:call|invoke|execute|run|use)\s(?:the\s)?(?:tool|function|[\w.-]{1,48}\s(?:tool|function))\b/g, weight: 0.2, needs: ["tool", "function"] },
];

const MODEL_NOUNS = ["ai", "llm", "assistant", "chatbot", "agent", "bot", "gpt", "chatgpt", "claude", "gemini", "copilot", "model"];
const addressedToModel: PhraseRule[] = [
  { id: "addressed_to_model", pattern: /\bif\s(?:you\sare|you're)\s(?:an?\s)?(?:ai|llm|language\smodel|large\slanguage\smodel|assistant|ai\sassistant|chatbot|agent|ai\sagent|bot|gpt|chatgpt|claude|gemini|copilot|model)\b/g, weight: 0.45, needs: MODEL_NOUNS },
  { id: "addressed_to_model", pattern: /\b(?:ai|llm|language\smodel|assistant|chatbot|agent|bot|gpt|claude|model)s?\s(?:reading|processing|summari[sz]ing|parsing|browsing|analy[sz]ing|that\sreads|who\sreads|which\sreads|that\sprocesses|that\sis\sreading)\s(?:this|these)\b/g, weight: 0.5, needs: ["reading", "processing", "summarizing", "summarising", "parsing", "browsing", "analyzing", "analysing", "reads", "processes"] },
  { id: "addressed_to_model", pattern: /\b(?:note|message|instructions?|attention|important|notice|memo|directive)\s(?:to|for)\s(?:the\s|any\s|all\s)?(?:ai|llm|assistant|ai\sassistant|chatbot|agent|ai\sagent|model|language\smodel|bot|ai\smodel)s?\b/g, weight: 0.45, needs: MODEL_NOUNS },
  { id: "addressed_to_model", pattern: /\b(?:next|downstream|receiving|other|subsequent)\s(?:agent|assistant|model|ai|llm)s?\s?:/g, weight: 0.4, needs: ["next", "downstream", "receiving", "other", "subsequent"] },
  { id: "addressed_to_model", pattern: /\b(?:dear|hey|hello|hi)\s(?:ai|llm|chatbot|language\smodel|ai\sassistant|chatgpt|gpt|claude|gemini|copilot)\b/g, weight: 0.3, needs: ["ai", "llm", "chatbot", "model", "gpt", "chatgpt", "claude", "gemini", "copilot"] },
  { id: "addressed_to_model", pattern: /\battention\s(?:ai|llm|assistant|agent|chatbot|model|bot)s?\b/g, weight: 0.45, needs: ["attention"] },
  { id: "addressed_to_model", pattern: /\binstead,?\s(?:you\s(?:must|should|will)|respond|reply|say|output|print|write|answer|tell)\b/g, weight: 0.2, needs: ["instead"] },
];

const MULTILINGUAL: PhraseRule[] = [
  { pattern: /\b(?:ignore[rz]?|oublie[rz]?|oubliez|ne tiens pas compte des)\s(?:toutes\s|tous\s)?(?:les\s|tes\s|vos\s|des\s)?(?:instructions|consignes|directives|regles)(?:\s(?:precedentes|anterieures|ci-dessus|d'avant|donnees))?/g, needs: ["toutes", "les", "tes", "vos", "des", "consignes", "regles"] },
  { pattern: /\b(?:ignora|ignore|ignorar|olvida|olvide|olvidar|omite|ignoren)\s(?:todas\s)?(?:las\s|tus\s|sus\s)?(?:instrucciones|indicaciones|reglas|ordenes)(?:\s(?:anteriores|previas|de\sarriba|precedentes))?/g, needs: ["instrucciones", "indicaciones", "reglas", "ordenes"] },
  { pattern: /\b(?:ignoriere|ignorier|ignorieren sie|vergiss|vergessen sie|missachte)\s(?:alle\s|die\s|deine\s|ihre\s)?(?:vorherigen\s|bisherigen\s|vorigen\s|obigen\s|fruheren\s|alten\s)?(?:anweisungen|instruktionen|befehle|regeln|vorgaben)/g, needs: ["anweisungen", "instruktionen", "befehle", "regeln", "vorgaben"] },
  { pattern: /\b(?:ignora|dimentica|ignorate|dimenticate)\s(?:tutte\s)?(?:le\s)?(?:istruzioni|regole|indicazioni)(?:\s(?:precedenti))?/g, needs: ["istruzioni", "regole", "indicazioni"] },
  { pattern: /\b(?:ignore|ignora|esqueca|esquece)\s(?:todas\s)?(?:as\s)?(?:instrucoes|regras|orientacoes)(?:\s(?:anteriores|previas))?/g, needs: ["instrucoes", "regras", "orientacoes"] },
  { pattern: /\b(?:negeer|vergeet)\s(?:alle\s)?(?:vorige\s|voorgaande\s|eerdere\s)?(?:instructies|regels|opdrachten)/g, needs: ["instructies", "regels", "opdrachten"] },
  { pattern: /(?<!\p{L})(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|не обращай внимания на)\s(?:все\s)?(?:предыдущие\s|прежние\s|прошлые\s|свои\s)?(?:инструкции|указания|правила|команды)/gu, needs: [], needsText: ["инструкц", "указани", "правила", "команды"] },
  { pattern: /(?:忽略|无视|忘记|忽视|忘掉)(?:之前|以前|上面|上述|先前|前面|所有|全部|你的)(?:的)?(?:所有|全部)?(?:的)?(?:指令|指示|说明|提示|规则|命令)/g, needs: [], needsText: ["忽", "无视", "忘"] },
  { pattern: /(?:以前|前|上記|これまで)の(?:すべての)?(?:指示|命令|ルール)を(?:無視|忘れ)/g, needs: [], needsText: ["指示", "命令", "ルール"] },
  { pattern: /(?:이전|위의|앞의)\s?(?:모든\s)?(?:지시|지침|명령)(?:을|를)?\s?(?:무시|잊어)/g, needs: [], needsText: ["무시", "잊어"] },
].map((r) => ({
  id: "override_instructions",
  weight: 0.75,
  ...r,
  // Without "previous"/"above" the phrase may be a user changing their mind: weak on its own.
  weigh: (m: string) => (/(?:precedent|anterieur|ci-dessus|d'avant|anteriores|previas|arriba|vorherig|bisherig|vorig|obig|fruher|precedenti|voorgaande|vorige|eerdere|предыдущ|прежн|прошл|之前|以前|上面|上述|先前|前面|所有|全部|上記|これまで|이전|위의|앞의|toutes|todas|alle|tutte)/u.test(m) ? 0.75 : 0.45),
}));

/** Tool poisoning reuses the override and tag families. */
export const OVERRIDE_RULES: readonly PhraseRule[] = [overrideInstructions, overrideSqueezed, ignoreAbove, ignoreTask, ignoreWhatAsked, ignoreTheUser, ignoreSomeonesInstructions, forgetEverything, instructionsVoid, instructionsLapsed, instructionsOutdated, disableSafety, ...MULTILINGUAL];
export const TAG_RULES: readonly PhraseRule[] = spoofedTags;
/** Every phrase rule of the injection detector. */
export const INJECTION_RULES: readonly PhraseRule[] = [...OVERRIDE_RULES, roleHijack, ...roleRules, ...TAG_RULES, ...secrecy, ...exfiltrationAsks, ...toolHijack, ...addressedToModel];

export const promptInjection: Detector = {
  id: "prompt_injection",
  category: "injection",
  placeholder: "PROMPT_INJECTION",
  description: "Instructions that try to override the model's instructions, reassign its role, spoof system turns, hide actions from the user or exfiltrate data, after normalisation that reveals hidden and encoded text.",
  directions: ["prompt", "tool_result", "tool_description", "response", "hook"],
  detect(text) {
    const n = normalize(text);
    return clusterHits(n, phraseHits(n, INJECTION_RULES));
  },
};
