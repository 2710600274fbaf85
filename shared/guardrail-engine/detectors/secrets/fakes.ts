/**
 * Well-formed fake credentials, built at run time so that no key-shaped literal sits in the
 * source (GitHub push protection scans committed files). Bodies carry FAKE where the format's
 * alphabet allows, so a human reading a fixture knows at once that it is synthetic; the
 * detectors still fire on them because real keys have the same shape. Used by the tests and by
 * scripts/eval/generate-secrets-corpus.ts (with a seeded generator, for a stable corpus).
 */
import { base62, crc32 } from "./checks.ts";

export type Random = () => number;

/** mulberry32: a small, seedable generator; Math.random is fine where stability is not needed. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALNUM = UPPER + LOWER + DIGITS;
const B64 = ALNUM + "+/";
const B64URL = ALNUM + "-_";
const HEX = "0123456789abcdef";
const BASE32 = UPPER + "234567";

export function fakes(random: Random = Math.random) {
  const pick = (alphabet: string, n: number) => {
    let out = "";
    for (let i = 0; i < n; i++) out += alphabet[Math.floor(random() * alphabet.length)];
    return out;
  };
  /** `n` characters from `alphabet` with FAKE somewhere inside. */
  const marked = (alphabet: string, n: number) => {
    const at = Math.floor(random() * (n - 4));
    return pick(alphabet, at) + "FAKE" + pick(alphabet, n - 4 - at);
  };
  const b64url = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const withCrc = (prefix: string) => {
    const body = marked(ALNUM, 30);
    return prefix + body + base62(crc32(body), 6);
  };
  const digits = (n: number) => pick("123456789", 1) + pick(DIGITS, n - 1);

  return {
    pick,
    awsAccessKeyId: (prefix = "AKIA") => prefix + marked(BASE32, 16),
    awsUniqueId: (prefix = "AROA") => prefix + marked(BASE32, 16),
    awsSecretAccessKey: () => marked(B64, 40),
    githubClassic: (prefix = "ghp_") => withCrc(prefix),
    /** Well-formed, but the checksum is wrong (the last character is changed). */
    githubBadChecksum: () => {
      const token = withCrc("ghp_");
      return token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    },
    githubFineGrained: () => "github_pat_" + "11" + marked(ALNUM, 20) + "_" + marked(ALNUM, 59),
    gitlab: (prefix = "glpat-") => prefix + marked(B64URL.replace("-", ""), 20),
    gitlabRoutable: () => "glpat-" + marked(B64URL, 36) + ".01." + pick(LOWER + DIGITS, 9),
    slackBot: () => `xoxb-${digits(12)}-${digits(13)}-${marked(ALNUM, 24)}`,
    slackUser: () => `xoxp-${digits(12)}-${digits(12)}-${digits(13)}-${pick(HEX, 32)}`,
    slackApp: () => `xapp-1-A${pick(UPPER + DIGITS, 10)}-${digits(13)}-${pick(HEX, 64)}`,
    slackWebhook: () => `https://hooks.slack.com/services/T${marked(UPPER + DIGITS, 10)}/B${marked(UPPER + DIGITS, 10)}/${marked(ALNUM, 24)}`,
    stripe: (prefix = "sk_live_") => prefix + marked(ALNUM, 24 + Math.floor(random() * 76)),
    stripeWebhook: () => "whsec_" + marked(ALNUM, 32),
    openaiProject: (kind = "proj") => `sk-${kind}-${marked(B64URL, 74)}T3BlbkFJ${marked(B64URL, 74)}`,
    openaiLegacy: () => `sk-${marked(ALNUM, 20)}T3BlbkFJ${marked(ALNUM, 20)}`,
    anthropic: (kind = "api03") => `sk-ant-${kind}-${marked(B64URL, 93)}AA`,
    googleApiKey: () => "AIza" + marked(B64URL, 35),
    googleOauthSecret: () => "GOCSPX-" + marked(B64URL, 28),
    azureStorageKey: () => marked(B64, 86) + "==",
    azureSharedAccessKey: () => marked(B64, 43) + "=",
    azureAdSecret: () => pick(ALNUM, 3) + pick(DIGITS, 1) + "Q~" + marked(ALNUM + "_~.", 34),
    hex: (n: number) => pick(HEX, n),
    twilioApiKey: () => "SK" + pick(HEX, 32),
    twilioAccountSid: () => "AC" + pick(HEX, 32),
    sendgrid: () => `SG.${marked(B64URL, 22)}.${marked(B64URL, 43)}`,
    npm: () => withCrc("npm_"),
    pem: (kind = "RSA ", lines = 12, eol = "\n") => {
      const body = Array.from({ length: lines }, (_, i) => (i === 0 ? "MIIE" + marked(B64, 60) : pick(B64, 64))).join(eol);
      return `-----BEGIN ${kind}PRIVATE KEY-----${eol}${body}${eol}-----END ${kind}PRIVATE KEY-----`;
    },
    jwt: (header: object = { alg: "HS256", typ: "JWT" }) =>
      `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify({ sub: "user-FAKE-" + digits(6), iat: 1_700_000_000 + Math.floor(random() * 1e7) }))}.${pick(B64URL, 43)}`,
    /** A password as people choose them: letters, digits, a symbol. */
    password: (n = 16) => pick(ALNUM, n - 2) + pick("!#%^*+", 1) + pick(DIGITS, 1),
    /** A random API-key-like value without FAKE (the generic rule treats "fake" as a placeholder). */
    randomKey: (n = 32, alphabet = ALNUM) => pick(alphabet, n),
  };
}
