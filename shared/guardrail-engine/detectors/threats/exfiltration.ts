import type { DetectContext, Detector, Direction, Match } from "../types.ts";
import { matchesOf } from "../matches.ts";
import { base64Bytes, base64Spans, decodeBase64Text, fieldAt, jsonView, lineAround, originalSpan, printableText, type TextView } from "./normalize.ts";

/**
 * Data leaving through a side door: URLs that auto-load (markdown and HTML images) or invite
 * a click (links) and carry encoded data, large base64 blobs in tool arguments, and reads of
 * credential files. Runs on the decoded string literals when the text is JSON (tool
 * arguments, hook payloads), else on the text itself.
 */

/** Findings below this are not reported; org rules set their own thresholds above it (default 0.6). */
const MIN_SCORE = 0.5;

/** How likely a URL's data reaches its host: images load unasked, links need a click. */
const AUTO_LOAD = 1;
const CLICK = 0.75;
const TOOL_URL = 0.8;

const MD_LINK = /(!?)\[[^[\]\n]{0,300}\]\(\s?<?(https?:\/\/[^\s)>"']{1,4096})/g;
const MD_REF_USE = /!\[[^[\]\n]{0,300}\]\[([^[\]\n]{1,100})\]/g;
const MD_REF_DEF = /^[ ]{0,3}\[([^[\]\n]{1,100})\]:[ \t]{0,8}<?(https?:\/\/[^\s>]{1,4096})/gm;
const HTML_URL = /<(img|image|iframe|script|link|source|video|audio|embed|object|input|track|a)\b[^>]{0,1000}?\b(?:src|href|data|srcset|poster|background)\s?=\s?["']?(https?:\/\/[^"'\s>]{1,4096})/gi;
const BARE_URL = /https?:\/\/[^\s"'<>\\)\]`]{1,4096}/g;

// Query parameters of signed or cache-busting URLs whose random values carry no user data.
const SIGNED_PARAMS = new Set(["signature", "sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-amz-date", "x-goog-signature",
  "x-goog-credential", "policy", "key-pair-id", "expires", "se", "sp", "sv", "sr", "st", "spr", "skoid", "sktid", "skt", "ske", "sks", "skv",
  "v", "ver", "version", "hash", "etag", "integrity", "nonce", "state", "code", "client_id", "redirect_uri", "ixid", "ixlib", "code_challenge", "s"]);
const SECRET_SHAPE = /(?:AKIA|ASIA)[A-Z0-9]{16}|sk-[A-Za-z0-9_-]{20,}|sk_live_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,}|xox[abpr]-[\w-]{10,}|AIza[\w-]{30,}|glpat-[\w-]{20,}|npm_[A-Za-z0-9]{30,}/;
const SENSITIVE_WORDS = /\b(?:password|passwd|pwd|token|secret|api[ _-]?key|ssn|social security|credit card|card number|cvv|iban|private key|session|cookie|credentials?|conversation|chat|history|email|address|phone)\b/i;

function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const k of counts.values()) {
    const p = k / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function charClasses(s: string): number {
  return (/[a-z]/.test(s) ? 1 : 0) + (/[A-Z]/.test(s) ? 1 : 0) + (/[0-9]/.test(s) ? 1 : 0);
}

function percentDecode(s: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, " ") : s);
  } catch {
    return s;
  }
}

function hexText(s: string): string | null {
  if (s.length < 24 || s.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(s)) return null;
  const bytes = new Uint8Array(s.length / 2);
  for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(s.slice(k * 2, k * 2 + 2), 16);
  return printableText(bytes, 8, 0.2);
}

/** 0..1: how strongly one URL component looks like data being carried out. */
function componentScore(raw: string, name: string | null): number {
  if (raw.length < 12) return 0;
  const value = percentDecode(raw, name !== null);
  if (SECRET_SHAPE.test(value)) return 0.9;
  // Carried data need not be prose ("ssn 078-05-1120"): printable is enough, few letters are required.
  if (/^[A-Za-z0-9+/_-]{16,}={0,2}$/.test(value) && decodeBase64Text(value, 0.2)) return 0.9;
  if (hexText(value)) return 0.9;
  if ((value.match(/ /g)?.length ?? 0) >= 3 && value.length >= 20) return SENSITIVE_WORDS.test(value) ? 0.85 : 0.45;
  // High entropy without a decoding counts in query values only: paths are full of content hashes.
  if (name !== null && !SIGNED_PARAMS.has(name.toLowerCase()) && !name.toLowerCase().startsWith("utm_")
    && value.length >= 32 && charClasses(value) >= 3 && shannonEntropy(value) >= 4.2) return 0.6;
  return 0;
}

/** Best component score of a URL: query values, path segments and a long first host label. */
export function urlPayload(url: string): number {
  const hash = url.indexOf("#");
  const u = hash >= 0 ? url.slice(0, hash) : url;
  const afterScheme = u.indexOf("//") + 2;
  const q = u.indexOf("?", afterScheme);
  const hostEnd = (() => {
    const slash = u.indexOf("/", afterScheme);
    const ends = [slash, q].filter((k) => k >= 0);
    return ends.length ? Math.min(...ends) : u.length;
  })();
  const host = u.slice(afterScheme, hostEnd);
  let best = 0;
  const labels = host.split(".");
  if (labels.length >= 3 && labels[0]!.length >= 20) best = Math.max(best, componentScore(labels[0]!, null));
  const path = u.slice(hostEnd, q >= 0 ? q : u.length);
  // A file extension does not hide the data in front of it: /p/<base64>.gif
  for (const segment of path.split("/")) best = Math.max(best, componentScore(segment.replace(/\.[a-z0-9]{2,5}$/i, ""), null));
  if (q >= 0) {
    for (const pair of u.slice(q + 1).split("&")) {
      const eq = pair.indexOf("=");
      if (eq < 0) best = Math.max(best, componentScore(pair, null));
      else best = Math.max(best, componentScore(pair.slice(eq + 1), pair.slice(0, eq)));
    }
  }
  return best;
}

function urlFindings(view: TextView | null, text: string, direction: Direction): Match[] {
  const matches: Match[] = [];
  const covered = new Set<number>();
  const add = (start: number, end: number, url: string, weight: number, rule: string) => {
    covered.add(start);
    const score = Math.round(weight * urlPayload(url) * 100) / 100;
    if (score >= MIN_SCORE) matches.push({ ...span(view, start, end), score, rule });
  };
  for (const m of matchesOf(MD_LINK, text)) {
    const urlStart = m.index + m[0].length - m[2]!.length;
    add(urlStart, urlStart + m[2]!.length, m[2]!, m[1] ? AUTO_LOAD : CLICK, m[1] ? "markdown_image" : "markdown_link");
  }
  const refImages = new Set(matchesOf(MD_REF_USE, text).map((m) => m[1]!.toLowerCase()));
  for (const m of matchesOf(MD_REF_DEF, text)) {
    const urlStart = m.index + m[0].length - m[2]!.length;
    const image = refImages.has(m[1]!.toLowerCase());
    add(urlStart, urlStart + m[2]!.length, m[2]!, image ? AUTO_LOAD : CLICK, image ? "markdown_image" : "markdown_link");
  }
  for (const m of matchesOf(HTML_URL, text)) {
    const urlStart = m.index + m[0].length - m[2]!.length;
    const link = m[1]!.toLowerCase() === "a";
    add(urlStart, urlStart + m[2]!.length, m[2]!, link ? CLICK : AUTO_LOAD, link ? "html_link" : "html_resource");
  }
  if (direction === "tool_args" || direction === "hook") {
    // A fetch or browser tool called with a URL that carries data sends it when it runs.
    for (const m of matchesOf(BARE_URL, text)) {
      if (!covered.has(m.index)) add(m.index, m.index + m[0].length, m[0], TOOL_URL, "url_in_tool_args");
    }
  }
  return matches;
}

// Base64 openings of formats tools legitimately receive encoded: images, PDF, audio and video.
const MEDIA = /^(?:iVBORw0KGg|\/9j\/|R0lGOD|JVBERi0|UklGR|AAAA[A-Za-z0-9+/]{2}GZ0eXA|PHN2Zy|SUQz|T2dnUw|GkXfo)/;

function blobFindings(view: TextView | null, text: string): Match[] {
  const matches: Match[] = [];
  for (const run of base64Spans(text, 1024, true)) {
    // Line-wrapped base64 joins across newlines; short words on the lines before it are not part of it.
    const lines = text.slice(run.start, run.end).split(/\r?\n/);
    let lead = 0;
    while (lines.length > 1 && lines[0]!.length < 40) lead += lines.shift()!.length + 1;
    const compact = lines.join("");
    if (compact.length < 1024 || charClasses(compact) < 3 || shannonEntropy(compact.slice(0, 4096)) < 4.5) continue;
    let score = 0.6;
    let rule = "base64_blob";
    if (MEDIA.test(compact)) score = 0.35;
    else {
      const head = base64Bytes(compact.slice(0, 4096));
      // The cut may split a UTF-8 sequence: leave its last bytes out of the check.
      if (head && printableText(head.subarray(0, head.length - 3))) {
        score = 0.8;
        rule = "base64_text_blob";
      }
    }
    if (score >= MIN_SCORE) matches.push({ ...span(view, run.start + lead, run.end), score, rule });
  }
  return matches;
}

interface CredentialRule {
  rule: string;
  pattern: RegExp;
  weight: number;
}

const CREDENTIAL_FILES: readonly CredentialRule[] = [
  { rule: "aws_credentials_file", pattern: /(?<![\w-])\.aws[\\/]credentials\b/gi, weight: 0.7 },
  { rule: "netrc_file", pattern: /(?<![\w-])[._]netrc\b/gi, weight: 0.7 },
  { rule: "shadow_file", pattern: /\/etc\/(?:shadow|gshadow|master\.passwd)\b/gi, weight: 0.75 },
  { rule: "git_credentials_file", pattern: /(?<![\w-])\.git-credentials\b|\.config[\\/]git[\\/]credentials\b/gi, weight: 0.7 },
  { rule: "gcloud_credentials", pattern: /(?<![\w-])\.config[\\/]gcloud\b|application_default_credentials\.json/gi, weight: 0.65 },
  { rule: "kube_config", pattern: /(?<![\w-])\.kube[\\/]config\b/gi, weight: 0.65 },
  { rule: "docker_config", pattern: /(?<![\w-])\.docker[\\/]config\.json\b/gi, weight: 0.65 },
  { rule: "pypirc_file", pattern: /(?<![\w-])\.pypirc\b/gi, weight: 0.65 },
  { rule: "vault_token", pattern: /(?<![\w-])\.vault-token\b/gi, weight: 0.6 },
  { rule: "process_environ", pattern: /\/proc\/(?:self|\d{1,7})\/environ\b/gi, weight: 0.6 },
  { rule: "npmrc_file", pattern: /(?<![\w-])\.npmrc\b/gi, weight: 0.35 },
  // `.env` and its per-stage variants, not `process.env`, `.env.example` or a `.env/` virtualenv.
  { rule: "dotenv_file", pattern: /(?<![\w$.-])\.env(?:\.(?:local|production|prod|development|dev|staging|test))?(?![\w./\\-])/gi, weight: 0.65 },
  { rule: "ssh_private_key", pattern: /(?<![\w/\\-])id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?(?![\w-]{0,40}\.pub)\b/gi, weight: 0.6 },
];
const SSH_PATH = /(?<![\w-])\.ssh(?:[\\/]([\w.-]{0,64}))?/gi;

const SINK = /\b(?:curl|wget|nc|ncat|netcat|scp|rsync|sftp|ftp|socat|base64|xxd|requests\.post|invoke-webrequest|iwr)\b|https?:\/\//i;
// Commands and imperatives that read or move a file; "kubectl reads ~/.kube/config" describes, it does not ask.
const READ_VERB = /\b(?:cat|less|more|head|tail|type|get-content|read|open|print|dump|upload|send|copy|cp|scp|exfiltrat[a-z]*|include|attach|grep|strings|contents? of|paste)\b/i;
const DISCUSSION = /\b(?:attackers?|malware|stealers?|adversar[a-z]*|never|don't|do not|avoid|protect|make sure|ensure|permissions?|gitignore|commit(?:ted)?|leak(?:ed|s)?|exposed?|rotate|should not|shouldn't|example)\b/i;
const BENIGN_COMMANDS = new Set(["chmod", "chown", "chgrp", "ssh-keygen", "ssh-add", "mkdir", "touch", "ls", "stat", "test", "rm", "shred"]);
const DESTINATION_COMMANDS = new Set(["cp", "mv", "ln", "install"]);
const WRITE_TOOL = /"(?:tool_name|toolName|name)"\s?:\s?"(?:Write|Edit|MultiEdit|NotebookEdit|write_file|edit_file|create_file|str_replace_based_edit_tool)"/;

/** The command or sentence around `[start, end)` in `text`, cut at separators and line ends. */
function segmentAround(text: string, start: number, end: number): { before: string; after: string } {
  let s = start;
  while (s > 0 && start - s < 300 && !"\n;|&".includes(text[s - 1]!)) s--;
  let e = end;
  while (e < text.length && e - end < 300 && !"\n;|&".includes(text[e]!)) e++;
  return { before: text.slice(s, start), after: text.slice(end, e) };
}

/** `true` when the path is only configured, protected, written or used as an SSH identity. */
function benignUse(text: string, start: number, end: number): boolean {
  const { before, after } = segmentAround(text, start, end);
  const words = before.trim().split(/\s/).filter((w) => w && w !== "sudo");
  const command = (words[0] ?? "").replace(/^["'`$]/, "").toLowerCase();
  if (BENIGN_COMMANDS.has(command)) return true;
  if (DESTINATION_COMMANDS.has(command) && !/\S/.test(after.replace(/["'`]/g, ""))) return true;
  const tail = before.slice(-40).toLowerCase();
  return /(?:>|\btee|\btee -a|-i|identityfile|identity_file|ssh_key_path)\s?["'=]?\s?[~\w./\\$-]{0,30}$/.test(tail);
}

function credentialFindings(view: TextView | null, text: string, direction: Direction, original: string, lower: string): Match[] {
  const hits: { start: number; end: number; weight: number; rule: string }[] = [];
  for (const { rule, pattern, weight } of CREDENTIAL_FILES) {
    for (const m of matchesOf(pattern, text)) {
      const w = rule === "npmrc_file" && lower.includes("_authtoken") ? 0.7 : weight;
      hits.push({ start: m.index, end: m.index + m[0].length, weight: w, rule });
    }
  }
  for (const m of matchesOf(SSH_PATH, text)) {
    // The whole directory (tar, scp -r), a key by its usual or a custom name; public files hardly matter.
    const name = (m[1] ?? "").toLowerCase();
    let weight = 0.55;
    if (name === "") weight = 0.5;
    else if (/^id_[a-z0-9_]+$/.test(name)) weight = 0.7;
    else if (/^(?:known_hosts|config|authorized_keys|environment|rc)$/.test(name) || name.endsWith(".pub")) weight = 0.25;
    hits.push({ start: m.index, end: m.index + m[0].length, weight, rule: name === "" ? "ssh_directory" : "ssh_private_key" });
  }
  const writeTool = WRITE_TOOL.test(original);
  const matches: Match[] = [];
  for (const h of hits) {
    const around = lineAround(text, h.start, h.end, 300);
    const line = text.slice(around.start, around.end);
    let score = h.weight;
    const key = fieldAt(view, h.start) ?? "";
    // Prose mentions a path far more often than it reads the file: ask for a reading verb.
    const prose = direction === "response" || direction === "tool_result" || /prompt|message|content|text|description/i.test(key);
    if (prose) {
      if (!READ_VERB.test(line)) score *= 0.6;
      if (DISCUSSION.test(line)) score *= 0.5;
    }
    if (benignUse(text, h.start, h.end) || (writeTool && /path|file/i.test(key))) score *= 0.4;
    else if (SINK.test(line)) score += 0.2;
    score = Math.min(1, Math.round(score * 100) / 100);
    if (score >= MIN_SCORE) matches.push({ ...span(view, h.start, h.end), score, rule: h.rule });
  }
  return matches;
}

function span(view: TextView | null, start: number, end: number): { start: number; end: number } {
  return view ? originalSpan(view, start, end) : { start, end };
}

function detectExfiltration(text: string, context: DetectContext): Match[] {
  const view = jsonView(text);
  const t = view ? view.text : text;
  const matches = [...urlFindings(view, t, context.direction), ...credentialFindings(view, t, context.direction, text, context.lower)];
  if (context.direction === "tool_args" || context.direction === "hook") matches.push(...blobFindings(view, t));
  return matches.sort((a, b) => a.start - b.start);
}

export const exfiltration: Detector = {
  id: "exfiltration",
  category: "exfiltration",
  placeholder: "EXFILTRATION",
  description: "Data leaving through images and links whose URLs carry encoded data, large base64 blobs in tool arguments, and reads of credential files (.env, SSH keys, cloud and registry credentials).",
  directions: ["response", "tool_args", "tool_result", "hook"],
  detect: detectExfiltration,
};
