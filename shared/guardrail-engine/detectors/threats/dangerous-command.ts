import type { DetectContext, Detector, Match } from "../types.ts";
import { matchesOf } from "../matches.ts";
import { fieldAt, jsonView, lineAround, originalSpan, type TextView } from "./normalize.ts";

/**
 * Destructive or unsafe shell, git, SQL and infrastructure commands. One anchor regex finds
 * command words; each is then judged from its own command segment (up to the next `;`, `&`,
 * `|`, backtick or line end, at most SEGMENT_MAX units), tokenised, so no pattern spans more
 * than a bounded window. Discussion ("never run rm -rf /") scores lower in prose; a command
 * in tool arguments or a hook's command field scores in full.
 */

/** Findings below this are not reported; org rules set their own thresholds above it (default 0.6). */
const MIN_SCORE = 0.5;
const SEGMENT_MAX = 500;

const ANCHOR = /\b(rm|rmdir|rd|del|remove-item|find|git|curl|wget|iwr|irm|invoke-webrequest|invoke-restmethod|iex|invoke-expression|kubectl|terraform|tofu|pulumi|cdk|cdktf|dd|mkfs(?:\.[a-z0-9]{1,10})?|wipefs|shred|chmod|chown|shutdown|reboot|poweroff|halt|init|systemctl|stop-computer|restart-computer|drop|truncate|delete|flushall|flushdb)\b/gi;

const EXTRA: readonly { rule: string; pattern: RegExp; score: number }[] = [
  { rule: "fork_bomb", pattern: /:\s?\(\s?\)\s?\{\s?:\s?\|\s?:\s?&\s?\}\s?;\s?:/g, score: 0.95 },
  { rule: "fork_bomb", pattern: /%0\s?\|\s?%0/g, score: 0.9 },
  { rule: "disk_overwrite", pattern: />\s?\/dev\/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|disk\d|rdisk\d|mmcblk\d)\b/g, score: 0.85 },
  { rule: "remote_script", pattern: /\b(?:ba|z|da|k)?sh\s(?:-[a-z]{1,3}\s)?["']?\$\(\s?(?:curl|wget)\b/gi, score: 0.8 },
  { rule: "remote_script", pattern: /(?:\b(?:ba|z|da|k)?sh|\bsource|(?:^|\s)\.)\s<\(\s?(?:curl|wget)\b/gi, score: 0.8 },
  { rule: "remote_script", pattern: /\beval\s["']?\$\(\s?(?:curl|wget)\b/gi, score: 0.8 },
  { rule: "database_drop", pattern: /\.dropDatabase\(\)/g, score: 0.75 },
  { rule: "database_drop", pattern: /\bdb\.[\w.]{1,64}\.drop\(\)/g, score: 0.7 },
  { rule: "delete_without_where", pattern: /\.deleteMany\(\s?\{\s?\}\s?\)/g, score: 0.65 },
];

const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh", "iex", "invoke-expression", "pwsh", "powershell"]);
// Official installers people are told to pipe to a shell: still remote code, but expected.
const KNOWN_INSTALLERS = /^https:\/\/(?:sh\.rustup\.rs|get\.docker\.com|raw\.githubusercontent\.com\/(?:homebrew|nvm-sh|ohmyzsh)\/|install\.python-poetry\.org|bun\.sh\/install|deno\.land\/install\.sh|get\.pnpm\.io|astral\.sh\/|sdk\.cloud\.google\.com|get\.helm\.sh|raw\.githubusercontent\.com\/helm\/|tailscale\.com\/install\.sh|cli\.github\.com)/i;
const PROTECTED_BRANCH = /^(?:main|master|trunk|prod|production|release|develop|live|stable)$/;
const DISCUSSION = /\b(?:never|don't|do not|dont|avoid|shouldn't|should not|must not|careful|caution|warning|beware|dangerous|destructive|infamous|notorious|classic|joke|meme|why|what does|would|irreversibl[ey]|mistakes?|accidental(?:ly)?|horror|prank|troll|example|explain[a-z]*|means?|deletes everything|wipes?|risky|disaster|instead of)\b/i;
const PROSE_FIELD = /prompt|message|content|text|description|comment|reason|title|body|summary|question/i;

interface Judged {
  score: number;
  rule: string;
}

function clean(token: string): string {
  return token.replace(/^["'`(]+/, "").replace(/["'`);,]+$/, "");
}

/** Tokens of the command at `at`: up to the next separator, or the line end when `pipes` are part of it. */
function segment(text: string, at: number, pipes = false): { end: number; tokens: string[] } {
  let e = at;
  const limit = Math.min(text.length, at + SEGMENT_MAX);
  while (e < limit) {
    const c = text[e]!;
    if (c === "\n" || c === ";" || c === "`" || (!pipes && (c === "&" || c === "|"))) break;
    e++;
  }
  return { end: e, tokens: text.slice(at, e).trim().split(/\s+/).map(clean).filter(Boolean) };
}

type Target = "root" | "home" | "system" | "deep" | "other";

function classifyTarget(raw: string): Target {
  const t = raw.toLowerCase().replace(/^--$/, "");
  if (/^(?:\/|\/\*|\/\.|\/\.\*|\/\/|[a-z]:\\?\*?|[a-z]:\/\*?)$/.test(t)) return "root";
  if (/^(?:~|~\/|~\/\*|~\/\.\*|\$home|\$\{home\}|\$home\/|\$home\/\*|%userprofile%|\$env:userprofile)$/.test(t)) return "home";
  if (/^\/(?:etc|usr|bin|sbin|lib|lib64|boot|var|home|opt|root|sys|proc|dev|srv|system|users|library|applications|mnt)(?:\/|\/\*)?$/.test(t)) return "system";
  if (/^\/(?:etc|usr|bin|sbin|boot|lib|var\/lib\/(?:mysql|postgresql|docker|mongodb))\//.test(t)) return "deep";
  return "other";
}

const TARGET_SCORES: Record<Target, number> = { root: 0.95, home: 0.9, system: 0.8, deep: 0.55, other: 0 };

function judgeRemove(command: string, args: string[]): Judged | null {
  const windows = command === "rd" || command === "rmdir" || command === "del";
  let recursive = false;
  let noPreserveRoot = false;
  let worst = 0;
  for (const a of args) {
    const lower = a.toLowerCase();
    if (lower === "--no-preserve-root") noPreserveRoot = true;
    else if (lower === "--recursive" || lower === "-recurse" || (windows && lower === "/s")) recursive = true;
    else if (/^-[a-z]+$/i.test(a) && !lower.startsWith("--")) {
      if (/r/i.test(a) && command !== "remove-item") recursive = true;
    } else if (!lower.startsWith("-") && !(windows && /^\/[a-z]$/.test(lower))) {
      worst = Math.max(worst, TARGET_SCORES[classifyTarget(a)]);
    }
  }
  if (noPreserveRoot) return { score: 1, rule: "rm_root" };
  if (!recursive) return null;
  return worst > 0 ? { score: worst, rule: "rm_root" } : null;
}

function judgeFind(args: string[]): Judged | null {
  const target = args.find((a) => !a.startsWith("-"));
  if (!target) return null;
  const destructive = args.includes("-delete") || args.some((a, k) => a === "-exec" && /^(?:rm|shred)$/.test(args[k + 1] ?? ""));
  const score = TARGET_SCORES[classifyTarget(target)];
  return destructive && score >= 0.8 ? { score: score - 0.1, rule: "rm_root" } : null;
}

function judgeGit(args: string[]): Judged | null {
  let k = 0;
  while (k < args.length && args[k]!.startsWith("-")) k += args[k] === "-C" || args[k] === "-c" ? 2 : 1;
  const sub = args[k];
  const rest = args.slice(k + 1);
  const refs = rest.filter((a) => !a.startsWith("-")).map((a) => a.replace(/^\+/, "").split(":").pop()!.replace(/^(?:refs\/heads\/|origin\/|upstream\/)/, ""));
  const protectedRef = refs.some((r) => PROTECTED_BRANCH.test(r)) || rest.includes("--all");
  if (sub === "push") {
    const lease = rest.some((a) => a.startsWith("--force-with-lease") || a === "--force-if-includes");
    const force = rest.some((a) => a === "--force" || /^-[a-z]*f[a-z]*$/i.test(a)) || rest.some((a) => a.startsWith("+") && a.length > 1);
    const remove = rest.includes("--delete") || rest.includes("-d") || rest.some((a) => /^:[\w/.-]+$/.test(a));
    if (rest.includes("--mirror")) return { score: 0.7, rule: "git_force_push" };
    if (force) return { score: protectedRef ? 0.9 : 0.6, rule: "git_force_push" };
    if (lease) return { score: protectedRef ? 0.55 : 0.3, rule: "git_force_push" };
    if (remove && protectedRef) return { score: 0.75, rule: "git_force_push" };
    return null;
  }
  if (sub === "reset" && rest.includes("--hard")) return { score: protectedRef ? 0.6 : 0.4, rule: "git_reset_hard" };
  return null;
}

function judgeDownload(text: string, at: number): { judged: Judged | null; end: number } {
  const { end } = segment(text, at, true);
  const tokens = text.slice(at, end).replace(/\|+/g, (p) => (p.length === 1 ? " | " : " || ")).trim().split(/\s+/).map(clean);
  const url = tokens.find((t) => /^https?:\/\//i.test(t)) ?? "";
  for (let k = 0; k < tokens.length; k++) {
    if (tokens[k] !== "|") continue;
    let j = k + 1;
    while (j < tokens.length && (tokens[j] === "sudo" || tokens[j] === "env" || tokens[j]!.startsWith("-"))) j++;
    const shell = (tokens[j] ?? "").split("/").pop()!.toLowerCase();
    if (SHELLS.has(shell)) {
      let score = KNOWN_INSTALLERS.test(url) ? 0.55 : 0.8;
      if (/^http:\/\//i.test(url)) score += 0.1;
      return { judged: { score, rule: "pipe_to_shell" }, end };
    }
  }
  return { judged: null, end };
}

function judgeKubectl(args: string[]): Judged | null {
  if (!args.includes("delete")) return null;
  if (args.includes("--all") || (args.includes("--all-namespaces") && args.some((a) => a.startsWith("--selector") || a === "-l"))) return { score: 0.8, rule: "kubectl_delete_all" };
  const k = args.findIndex((a) => a === "namespace" || a === "namespaces" || a === "ns");
  if (k >= 0 && args[k + 1]) return { score: /^(?:kube-system|default|prod|production)$/.test(args[k + 1]!) ? 0.8 : 0.55, rule: "kubectl_delete_all" };
  return null;
}

function judgeInfra(command: string, args: string[]): Judged | null {
  const sub = args.find((a) => !a.startsWith("-"));
  const yes = args.some((a) => /^(?:-auto-approve|--auto-approve|--yes|-y|--force|-f|--skip-preview)$/.test(a));
  const destroy = sub === "destroy" || (sub === "apply" && args.includes("-destroy"));
  if (!destroy) return null;
  return { score: (yes ? 0.85 : 0.7) - (command === "cdk" || command === "cdktf" ? 0.05 : 0), rule: "infra_destroy" };
}

function judgeDisk(command: string, segmentText: string, args: string[]): Judged | null {
  const device = /\/dev\/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|disk\d|rdisk\d|mmcblk\d|md\d|mapper\/)/.test(segmentText);
  if (command === "dd") return /\bof=\/dev\/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|disk\d|rdisk\d|mmcblk\d|md\d|mapper\/)/.test(segmentText) ? { score: 0.9, rule: "disk_overwrite" } : null;
  if (command.startsWith("mkfs")) return { score: device ? 0.85 : 0.6, rule: "disk_overwrite" };
  if (command === "wipefs") return args.includes("-a") || args.includes("--all") ? { score: 0.8, rule: "disk_overwrite" } : null;
  return device ? { score: 0.8, rule: "disk_overwrite" } : null;
}

function judgePermissions(command: string, args: string[]): Judged | null {
  const recursive = args.some((a) => a === "--recursive" || /^-[a-z]*R[a-z]*$/.test(a));
  const operands = args.filter((a) => !a.startsWith("-"));
  // chmod MODE FILE…, chown OWNER FILE…
  const targets = operands.slice(1);
  if (command === "chmod" && !/^(?:0?777|0?000|a\+rwx|ugo\+rwx|a\+w|o\+w|a=rwx)$/.test(operands[0] ?? "")) return null;
  let worst: Target = "other";
  for (const t of targets) {
    const c = classifyTarget(t);
    if (c === "root" || (c === "home" && worst !== "root") || (c === "system" && worst === "other")) worst = c;
  }
  if (worst === "root") return { score: recursive ? 0.9 : 0.55, rule: "chmod_root" };
  if ((worst === "system" || worst === "home") && recursive) return { score: 0.65, rule: "chmod_root" };
  return null;
}

/** `true` when the word at `at` starts a command: line start, after a separator, `sudo`, a prompt or a quote. */
function atCommandPosition(text: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && (text[k] === " " || text[k] === "\t")) k--;
  if (k < 0 || "\n;&|`\"'($#>{".includes(text[k]!)) return true;
  let w = k;
  while (w >= 0 && /[\w-]/.test(text[w]!)) w--;
  return ["sudo", "exec", "doas", "nohup", "then", "do", "else", "xargs", "redis-cli"].includes(text.slice(w + 1, k + 1).toLowerCase());
}

function judgePower(command: string, args: string[]): Judged | null {
  const next = (args[0] ?? "").toLowerCase();
  if (command === "init") return next === "0" || next === "6" ? { score: 0.6, rule: "shutdown" } : null;
  if (command === "systemctl") return /^(?:poweroff|reboot|halt|kexec|emergency|rescue)$/.test(next) ? { score: 0.6, rule: "shutdown" } : null;
  if (command === "shutdown" && next === "-c") return null;
  // A command stands alone or takes flags; "reboot the router" is prose.
  if (next === "" || next.startsWith("-") || next.startsWith("/") || next.startsWith("+") || next === "now") return { score: 0.6, rule: "shutdown" };
  return null;
}

const SQL_STATEMENT = /^(?:drop|truncate|delete)\s+(?:(table|database|schema|from)\s+)?(?:if\s+exists\s+)?[\w."`[\]-]{1,128}/i;
// After the object name a statement ends or goes on in SQL; prose goes on with words.
const SQL_END = /^\s*(?:$|[\n'"`)]|cascade\b|restrict\b)/i;

/** Judges a SQL statement at `at` (up to its `;`): DROP, TRUNCATE, or DELETE without WHERE. */
function judgeSql(text: string, at: number, keyword: string): { judged: Judged | null; end: number } {
  let e = at;
  const limit = Math.min(text.length, at + SEGMENT_MAX);
  while (e < limit && text[e] !== ";") e++;
  const statement = text.slice(at, e);
  const m = SQL_STATEMENT.exec(statement);
  const rest = statement.slice(m?.[0].length ?? 0);
  // Upper-case SQL goes on with another keyword (WHERE, CASCADE) or stops; "DELETE FROM removes rows" is prose.
  const shaped = m && (SQL_END.test(rest) || (keyword === keyword.toUpperCase() && /^\s+[A-Z]{2,}\b/.test(rest)));
  if (!m || !shaped) return { judged: null, end: e };
  const verb = keyword.toLowerCase();
  const kind = (m[1] ?? "").toLowerCase();
  let judged: Judged | null = null;
  if (verb === "drop" && kind !== "" && kind !== "from") judged = { score: 0.8, rule: "sql_drop" };
  else if (verb === "truncate" && (kind === "table" || kind === "")) judged = { score: 0.7, rule: "sql_truncate" };
  else if (verb === "delete" && kind === "from" && !/\bwhere\b/i.test(statement)) judged = { score: 0.7, rule: "delete_without_where" };
  return { judged, end: e };
}

function judge(text: string, at: number, word: string): { judged: Judged | null; end: number } {
  const command = word.toLowerCase();
  if (command === "curl" || command === "wget" || command === "iwr" || command === "irm" || command === "invoke-webrequest" || command === "invoke-restmethod") return judgeDownload(text, at);
  if (command === "drop" || command === "truncate" || command === "delete") return judgeSql(text, at, word);
  const { end, tokens } = segment(text, at);
  const args = tokens.slice(1);
  const segmentText = text.slice(at, end);
  switch (command) {
    case "rm": case "rmdir": case "rd": case "del": case "remove-item":
      return { judged: judgeRemove(command, args), end };
    case "find":
      return { judged: judgeFind(args), end };
    case "git":
      return { judged: judgeGit(args), end };
    case "iex": case "invoke-expression": {
      const line = segment(text, at, true);
      const remote = /downloadstring|\biwr\b|\birm\b|invoke-webrequest|invoke-restmethod|net\.webclient/i.test(text.slice(at, line.end));
      return { judged: remote ? { score: 0.8, rule: "pipe_to_shell" } : null, end: line.end };
    }
    case "kubectl":
      return { judged: judgeKubectl(args), end };
    case "terraform": case "tofu": case "pulumi": case "cdk": case "cdktf":
      return { judged: judgeInfra(command, args), end };
    case "chmod": case "chown":
      return { judged: judgePermissions(command, args), end };
    case "flushall": case "flushdb":
      return { judged: word === word.toUpperCase() || atCommandPosition(text, at) ? { score: 0.7, rule: "redis_flush" } : null, end };
    case "shutdown": case "reboot": case "poweroff": case "halt": case "init": case "systemctl": case "stop-computer": case "restart-computer":
      return { judged: atCommandPosition(text, at) ? judgePower(command, args) ?? (command.endsWith("-computer") ? { score: 0.6, rule: "shutdown" } : null) : null, end };
    default:
      return { judged: judgeDisk(command, segmentText, args), end };
  }
}

/** Multiplier for prose: a command named in a sentence that warns or explains is not one being run. */
function proseFactor(text: string, start: number, end: number): number {
  const line = lineAround(text, start, end, 200);
  // Paths and hosts are not words: "example.xyz" is no example.
  const words = text.slice(line.start, line.end).replace(/\S*[./:\\]\S*/g, " ");
  return DISCUSSION.test(words) ? 0.45 : 0.9;
}

function detectDangerous(text: string, context: DetectContext): Match[] {
  const view: TextView | null = jsonView(text);
  const t = view ? view.text : text;
  const found: { start: number; end: number; score: number; rule: string }[] = [];
  let covered = -1;
  // The same command word again inside a segment already judged sees only part of it: skip it.
  const examined = new Map<string, number>();
  for (const m of matchesOf(ANCHOR, t)) {
    const word = m[1]!.toLowerCase();
    if (m.index < covered || m.index < (examined.get(word) ?? -1)) continue;
    const { judged, end } = judge(t, m.index, m[1]!);
    examined.set(word, end);
    if (judged) {
      found.push({ start: m.index, end: Math.max(end, m.index + m[0].length), ...judged });
      covered = end;
    }
  }
  for (const { rule, pattern, score } of EXTRA) {
    for (const m of matchesOf(pattern, t)) found.push({ start: m.index, end: m.index + m[0].length, score, rule });
  }
  const matches: Match[] = [];
  for (const f of found) {
    // Text is prose when it travels as prose, sits in a prose field, or names the command mid-sentence.
    const prose = context.direction === "response" || context.direction === "prompt" || context.direction === "tool_result"
      || PROSE_FIELD.test(fieldAt(view, f.start) ?? "") || !atCommandPosition(t, f.start);
    const score = Math.min(1, Math.round(f.score * (prose ? proseFactor(t, f.start, f.end) : 1) * 100) / 100);
    if (score >= MIN_SCORE) matches.push({ ...(view ? originalSpan(view, f.start, f.end) : { start: f.start, end: f.end }), score, rule: f.rule });
  }
  return matches.sort((a, b) => a.start - b.start);
}

export const dangerousCommand: Detector = {
  id: "dangerous_command",
  category: "dangerous_command",
  placeholder: "DANGEROUS_COMMAND",
  description: "Destructive or unsafe commands: rm -rf on root or home, piping downloads to a shell, force pushes, DROP/TRUNCATE/unbounded DELETE, disk formatting, fork bombs, chmod -R 777 /, shutdown, kubectl delete --all, terraform destroy.",
  directions: ["tool_args", "hook", "response"],
  detect: detectDangerous,
};
