import { describe, expect, it } from "vitest";
import type { Detector, Match } from "../types.ts";
import { base62, crc32, hasBase62Crc32 } from "./checks.ts";
import { fakes, seededRandom } from "./fakes.ts";
import { SECRET_DETECTORS } from "./index.ts";
import { PROVIDER_FAMILIES } from "./provider-rules.ts";

const f = fakes(seededRandom(7));
const byId = (id: string) => SECRET_DETECTORS.find((d) => d.id === id)!;

/** Runs one detector the way the engine does: keyword prefilter, then detect. */
function run(detector: Detector, text: string): Match[] {
  const lower = text.toLowerCase();
  if (detector.keywords && !detector.keywords.some((k) => lower.includes(k))) return [];
  return detector.detect(text, { direction: "prompt", lower });
}

/** The findings of one detector, as the strings they cover. */
const found = (id: string, text: string) => run(byId(id), text).map((m) => text.slice(m.start, m.end));

describe("provider table", () => {
  it("gives every family a unique id, a placeholder, lower-case keywords and global patterns", () => {
    expect(new Set(PROVIDER_FAMILIES.map((p) => p.id)).size).toBe(PROVIDER_FAMILIES.length);
    for (const family of PROVIDER_FAMILIES) {
      expect(family.placeholder).toMatch(/^[A-Z][A-Z_]*$/);
      for (const rule of family.rules) {
        expect(rule.keywords.length, rule.rule).toBeGreaterThan(0);
        for (const keyword of rule.keywords) expect(keyword).toBe(keyword.toLowerCase());
        expect(rule.pattern.global, rule.rule).toBe(true);
        expect(rule.score).toBeGreaterThan(0.5);
        expect(rule.score).toBeLessThanOrEqual(1);
      }
    }
  });

  it("uses only bounded repetition (no +, * or {n,} outside character classes)", () => {
    for (const family of PROVIDER_FAMILIES) {
      for (const rule of family.rules) {
        const structure = rule.pattern.source.replace(/\\./g, "").replace(/\[[^\]]*\]/g, "C");
        expect(structure, rule.rule).not.toMatch(/[+*]|\{\d+,\}/);
      }
    }
  });

  it("exports one category-secret detector per family plus generic_secret", () => {
    expect(SECRET_DETECTORS.map((d) => d.id)).toEqual([...PROVIDER_FAMILIES.map((p) => p.id), "generic_secret"]);
    for (const d of SECRET_DETECTORS) expect(d.category).toBe("secret");
  });
});

describe("GitHub/npm checksum", () => {
  it("computes the standard CRC-32 and pads base62 to six characters", () => {
    expect(crc32("123456789")).toBe(0xcbf43926);
    expect(base62(0, 6)).toBe("000000");
    expect(base62(61, 6)).toBe("00000z");
  });

  it("accepts a token whose last six characters are the CRC-32 of its body", () => {
    expect(hasBase62Crc32(f.githubClassic(), 4)).toBe(true);
    expect(hasBase62Crc32(f.npm(), 4)).toBe(true);
    expect(hasBase62Crc32(f.githubBadChecksum(), 4)).toBe(false);
  });

  it("scores a checksum-valid token above a well-formed one that fails the checksum", () => {
    const [good] = run(byId("github_token"), f.githubClassic());
    const [bad] = run(byId("github_token"), f.githubBadChecksum());
    expect(good!.score).toBe(0.99);
    expect(bad!.score).toBeLessThan(good!.score);
    expect(bad!.score).toBeGreaterThanOrEqual(0.5);
  });
});

describe("provider detectors find well-formed keys and report their exact span", () => {
  const cases: [string, string, string][] = [
    ["aws_access_key", "AKIA id", f.awsAccessKeyId()],
    ["aws_access_key", "ASIA id", f.awsAccessKeyId("ASIA")],
    ["aws_access_key", "role id", f.awsUniqueId("AROA")],
    ["github_token", "ghp_", f.githubClassic()],
    ["github_token", "gho_", f.githubClassic("gho_")],
    ["github_token", "ghs_", f.githubClassic("ghs_")],
    ["github_token", "github_pat_", f.githubFineGrained()],
    ["gitlab_token", "glpat-", f.gitlab()],
    ["gitlab_token", "routable glpat-", f.gitlabRoutable()],
    ["gitlab_token", "gldt-", f.gitlab("gldt-")],
    ["slack_token", "xoxb-", f.slackBot()],
    ["slack_token", "xoxp-", f.slackUser()],
    ["slack_token", "xapp-", f.slackApp()],
    ["slack_token", "webhook", f.slackWebhook()],
    ["stripe_key", "sk_live_", f.stripe()],
    ["stripe_key", "sk_test_", f.stripe("sk_test_")],
    ["stripe_key", "rk_live_", f.stripe("rk_live_")],
    ["stripe_key", "whsec_", f.stripeWebhook()],
    ["openai_key", "sk-proj-", f.openaiProject()],
    ["openai_key", "sk-svcacct-", f.openaiProject("svcacct")],
    ["openai_key", "legacy", f.openaiLegacy()],
    ["anthropic_key", "api03", f.anthropic()],
    ["anthropic_key", "admin01", f.anthropic("admin01")],
    ["google_api_key", "AIza", f.googleApiKey()],
    ["google_api_key", "GOCSPX-", f.googleOauthSecret()],
    ["azure_key", "Entra secret", f.azureAdSecret()],
    ["twilio_key", "SK", f.twilioApiKey()],
    ["sendgrid_key", "SG.", f.sendgrid()],
    ["npm_token", "npm_", f.npm()],
    ["jwt", "HS256", f.jwt()],
    ["jwt", "RS256 with kid", f.jwt({ alg: "RS256", kid: "k1" })],
  ];
  it.each(cases)("%s: %s", (id, _label, secret) => {
    for (const text of [secret, `before ${secret} after`, `"${secret}"`, `key=${secret}\n`, `{"text":"line one\\n${secret}\\nline two"}`]) {
      expect(found(id, text), text).toEqual([secret]);
    }
  });

  it("does not match inside a longer token", () => {
    expect(found("github_token", `x${f.githubClassic()}`)).toEqual([]);
    expect(found("aws_access_key", `${f.awsAccessKeyId()}ABC`)).toEqual([]);
    expect(found("google_api_key", `${f.googleApiKey()}-x`)).toEqual([]);
  });

  it("scores Stripe test keys below live keys, both as findings", () => {
    const [live] = run(byId("stripe_key"), f.stripe());
    const [test] = run(byId("stripe_key"), f.stripe("sk_test_"));
    expect(test!.score).toBeLessThan(live!.score);
    expect(test!.score).toBeGreaterThanOrEqual(0.5);
  });
});

describe("context-bound rules", () => {
  it("takes a 40-character AWS secret only after its key name, and reports the value alone", () => {
    const secret = f.awsSecretAccessKey();
    for (const text of [`aws_secret_access_key = ${secret}`, `"SecretAccessKey": "${secret}"`, `PROD_AWS_SECRET_ACCESS_KEY=${secret}`]) {
      expect(found("aws_access_key", text), text).toEqual([secret]);
    }
    expect(found("aws_access_key", `etag ${secret}`)).toEqual([]);
  });

  it("takes Azure storage keys next to AccountKey and scores full connection strings higher", () => {
    const key = f.azureStorageKey();
    const bare = run(byId("azure_key"), `AccountKey=${key}`);
    const full = run(byId("azure_key"), `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${key};EndpointSuffix=core.windows.net`);
    expect(bare.map((m) => m.end - m.start)).toEqual([88]);
    expect(full[0]!.score).toBeGreaterThan(bare[0]!.score);
    expect(found("azure_key", `SharedAccessKeyName=Root;SharedAccessKey=${f.azureSharedAccessKey()}`)).toHaveLength(1);
  });

  it("takes 32-hex Azure and Twilio secrets only under their names", () => {
    const hex = f.hex(32);
    expect(found("azure_key", `AZURE_OPENAI_API_KEY=${hex}`)).toEqual([hex]);
    expect(found("azure_key", `Ocp-Apim-Subscription-Key: ${hex}`)).toEqual([hex]);
    expect(found("azure_key", `Azure says Content-MD5 ${hex}`)).toEqual([]);
    expect(found("twilio_key", `TWILIO_AUTH_TOKEN=${hex}`)).toEqual([hex]);
    expect(found("twilio_key", `auth_token=${hex}`)).toEqual([]);
  });

  it("needs a Twilio context word for an account SID", () => {
    const sid = f.twilioAccountSid();
    expect(found("twilio_key", `twilio account ${sid}`)).toEqual([sid]);
    expect(found("twilio_key", `TWILIO_ACCOUNT_SID=${sid}`)).toEqual([sid]);
    expect(found("twilio_key", `row ${sid} in the audit log`)).toEqual([]);
  });
});

describe("private keys", () => {
  it("covers BEGIN through END for each PEM type", () => {
    for (const kind of ["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED "]) {
      const pem = f.pem(kind, 6);
      expect(found("private_key", `key:\n${pem}\nthanks`), kind).toEqual([pem]);
    }
  });

  it("covers a key inside a JSON string with escaped newlines", () => {
    const pem = f.pem("", 8, "\\n");
    expect(found("private_key", JSON.stringify({ private_key: "x" }).replace('"x"', `"${pem}\\n"`))).toEqual([pem]);
  });

  it("covers a truncated key up to its last body character", () => {
    const lines = f.pem("RSA ", 6).split("\n").slice(0, 4);
    expect(found("private_key", `${lines.join("\n")}\n`)).toEqual([lines.join("\n")]);
  });

  it("ignores headers quoted in prose, ellipsis bodies, public keys and certificates", () => {
    const body = f.pem("", 3).split("\n")[1]!;
    for (const text of [
      "A key file begins with -----BEGIN OPENSSH PRIVATE KEY----- and must be private.",
      "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC...\n-----END PRIVATE KEY-----",
      `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----`,
      `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`,
    ]) {
      expect(found("private_key", text), text).toEqual([]);
    }
  });
});

describe("JWT", () => {
  it("requires a header that decodes to JSON with alg", () => {
    const jwt = f.jwt();
    const [, payload, signature] = jwt.split(".");
    const noAlg = btoa(JSON.stringify({ typ: "JWT" })).replace(/=+$/, "");
    expect(found("jwt", `${noAlg}.${payload}.${signature}`)).toEqual([]);
    expect(found("jwt", `eyJub3QganNvbiI.${payload}.${signature}`)).toEqual([]);
  });

  it("ignores jwt.io's published sample token", () => {
    const header = btoa(JSON.stringify({ alg: "HS256", typ: "JWT" })).replace(/=+$/, "");
    const payload = btoa(JSON.stringify({ sub: "1234567890", name: "John Doe", iat: 1516239022 })).replace(/=+$/, "");
    expect(found("jwt", `${header}.${payload}.${"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"}`)).toEqual([]);
  });
});

describe("database URLs", () => {
  it("reports the password alone, keeping scheme, user and host readable", () => {
    const password = f.password();
    for (const url of [
      `postgres://app:${password}@db.internal:5432/app`,
      `postgresql://app:${password}@db.internal/app?sslmode=require`,
      `mysql://root:${password}@mysql.local:3306/shop`,
      `mongodb+srv://appUser:${password}@cluster0.ab1cd.mongodb.net/?retryWrites=true`,
      `redis://:${password}@cache:6379/0`,
      `amqps://worker:${password}@broker/vhost`,
      `jdbc:mysql://svc:${password}@db:3306/inv`,
    ]) {
      expect(found("database_url", url), url).toEqual([password]);
    }
  });

  it("ignores URLs without a password and doc placeholders", () => {
    for (const url of [
      "postgres://db.internal:5432/app",
      "postgresql://app@db.internal/app",
      "redis://cache:6379/0",
      "postgres://user:password@localhost:5432/mydb",
      "postgres://app:${DB_PASSWORD}@db:5432/app",
      "mysql://root:<password>@db:3306/shop",
      "mongodb+srv://<username>:<password>@cluster0.example.mongodb.net/",
      "redis://:****@cache:6379",
      "https://user:pass@example.org/",
    ]) {
      expect(found("database_url", url), url).toEqual([]);
    }
  });
});

describe("placeholders and documentation values", () => {
  it.each([
    ["aws_access_key", "AKIAXXXXXXXXXXXXXXXX"],
    ["aws_access_key", "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE"],
    ["aws_access_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["github_token", "ghp_your_token_here"],
    ["github_token", `ghp_${"x".repeat(36)}`],
    ["github_token", `ghp_${"0".repeat(36)}`],
    ["openai_key", "OPENAI_API_KEY=sk-... or sk-proj-..."],
    ["slack_token", "xoxb-your-bot-token"],
    ["slack_token", `xoxb-123456789012-123456789012-${"X".repeat(24)}`],
    ["stripe_key", `sk_live_${"X".repeat(24)}`],
    ["stripe_key", "pk_live_51HqLyjWDarjtT1zdp7dc9XYZabc"],
    ["anthropic_key", "ANTHROPIC_API_KEY=sk-ant-api03-..."],
    ["gitlab_token", `glpat-${"x".repeat(20)}`],
    ["sendgrid_key", "SG.xxxxxxxx.yyyyyyyy"],
    ["google_api_key", 'apiKey: "AIzaSy...your-key"'],
    ["azure_key", "DefaultEndpointsProtocol=https;AccountName=<account>;AccountKey=<key>"],
  ])("%s ignores %s", (id, text) => {
    expect(found(id, text)).toEqual([]);
  });

  it("still fires on synthetic keys marked FAKE or EXAMPLE, which real keys can resemble", () => {
    expect(found("aws_access_key", "AKIAFAKEEXAMPLE23ABC")).toHaveLength(1);
    expect(found("google_api_key", `AIza${"SyEXAMPLE"}${f.pick("abcdefghijKLMNOP0123456789", 26)}`)).toHaveLength(1);
  });
});

describe("offsets", () => {
  it("stays aligned with the text when lower-casing changes its length", () => {
    const key = f.twilioApiKey();
    // U+0130 lower-cases to two code units, so context.lower is one longer than the text.
    const text = `İstanbul twilio ${key}`;
    const [m] = run(byId("twilio_key"), text);
    expect(text.slice(m!.start, m!.end)).toBe(key);
    expect(m!.score).toBe(0.95);
  });
});

describe("filler words inside random key material", () => {
  it("a key whose random part happens to spell a filler word is still a key", () => {
    // Built at run time so no scanner mistakes the test file for a leak.
    const key = ["SG.", "qyoUrhB-FAKEt8RPt4ICyB", ".", "FAKEA1WQ0obM0nXIVsMnZMzhkYVtheuXFiTVWMKyOJW"].join("");
    expect(found("sendgrid_key", `token ${key} end`)).toEqual([key]);
    expect(found("sendgrid_key", `token SG.your-key-goes-here-abc.${"a1B2".repeat(10)}abc end`)).toEqual([]);
  });
});
