import { describe, expect, it } from "vitest";
import { fakes, seededRandom } from "./fakes.ts";
import { SECRET_DETECTORS } from "./index.ts";

// Seeded: the heuristics miss about 1 in 1,500 random values (a chance "xxx" or "Test" inside
// one reads as a placeholder), and a test must not fail by chance.
const f = fakes(seededRandom(7));
const generic = SECRET_DETECTORS.find((d) => d.id === "generic_secret")!;

function found(text: string): string[] {
  const lower = text.toLowerCase();
  if (!generic.keywords!.some((k) => lower.includes(k))) return [];
  return generic.detect(text, { direction: "prompt", lower }).map((m) => text.slice(m.start, m.end));
}

describe("generic_secret", () => {
  it.each([
    ["env", (v: string) => `DB_PASSWORD=${v}`],
    ["export with quotes", (v: string) => `export APP_SECRET='${v}'`],
    ["python", (v: string) => `API_KEY = "${v}"`],
    ["yaml", (v: string) => `database:\n  password: ${v}\n  user: app`],
    ["json", (v: string) => JSON.stringify({ client_secret: v, client_id: "web" })],
    ["json inside json", (v: string) => JSON.stringify({ body: JSON.stringify({ api_key: v }) })],
    ["go", (v: string) => `accessKey := "${v}"`],
    ["php", (v: string) => `'password' => '${v}',`],
    ["cli flag", (v: string) => `deploy --token=${v} --env prod`],
    ["bearer header", (v: string) => `Authorization: Bearer ${v}`],
    ["dotted name", (v: string) => `config.api_key = "${v}"`],
    ["prefixed name", (v: string) => `STAGING_WEBHOOK_SECRET=${v}`],
    ["URL query", (v: string) => `https://api.acme.dev/items?api_key=${v}&limit=10`],
    ["XML element", (v: string) => `<password>${v}</password>`],
    ["sentence", (v: string) => `the admin password is ${v}. please rotate it`],
    ["PowerShell", (v: string) => `$env:API_TOKEN = "${v}"`],
    ["properties", (v: string) => `spring.datasource.password=${v}\r\n`],
  ])("finds the value in %s", (_syntax, write) => {
    const value = f.randomKey(32);
    expect(found(write(value))).toEqual([value]);
  });

  it("finds passwords as people choose them, and hex and UUID secrets", () => {
    for (const value of [f.password(12), f.password(16), f.hex(32), "6b0c02cf-e7e9-4843-8993-a52bac2a85bd"]) {
      expect(found(`secret: ${value}`), value).toEqual([value]);
    }
  });

  it("finds a key of letters only, and still passes over identifiers", () => {
    const letters = f.randomKey(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    expect(found(`DB_PASSWORD=${letters}`)).toEqual([letters]);
    expect(found("token = accessTokenFromEnvironment;")).toEqual([]);
    expect(found("api_key: OpenAIApiKeyDefault")).toEqual([]);
  });

  it("reports user:password in Basic auth", () => {
    const value = btoa(`deploy:${f.password(16)}`);
    expect(found(`Authorization: Basic ${value}`)).toEqual([value]);
    expect(found(`Authorization: Basic ${btoa("user:password")}`)).toEqual([]);
  });

  it.each([
    "password: ********",
    "ADMIN_PASSWORD=changeme",
    'API_KEY = "your_api_key_here"',
    'secret = "dummy-secret-for-tests"',
    'client_secret: "example-client-secret-123"',
    "api_key: REDACTED",
    "token: null",
    "password: {{ db_password }}",
    "curl -H \"Authorization: Bearer ${OPENAI_API_KEY}\" https://api.openai.com",
    "ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY",
    "api_key = os.environ['OPENAI_API_KEY']",
    "const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);",
    "env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password",
    "private_key: ./keys/deploy_ed25519.pem",
    "token_url: https://auth.acme.dev/oauth/token",
    "token = request.headers.get('Authorization')",
    "SECRET_KEY = settings.DJANGO_SECRET_KEY",
    "this._noAuthorization = !req.headers.authorization",
    "max_tokens: 4096",
    "token_type: bearer",
    "author: Release Bot",
    "mongodb://host:1234/?authSource=admin&connectTimeoutMS=300000",
    "password: correct-horse-battery-staple",
    "password: hunter2",
    `const TOKEN_STRINGS = "[A-Za-z0-9._~+/-]+=*";`,
    `lastSignificantToken = "?InterpolationInJSX";`,
    "let CompositePrivateKey = CompositePrivateKey_1 = class {}",
    `next_page_token: CiAKGjBpNDd2Nmp4Y2ZhZ2R4OHc4bWUxMXFqNBIC`,
    `checksum: ${"ab12".repeat(16)}`,
    `if (token == "${f.randomKey(20)}") {}`,
    ".btn-secret-token-wrapper { display: none; }",
    "The token: field accepts a PAT. Your password must be at least 12 characters.",
    "The secret is to keep trying until the build is green.",
    "The api key is stored in the vault, not in the repository.",
    "<password></password>",
    "ANTHROPIC_API_KEY=sk-ant-api03-...",
    "DB_PASSWORD=xxxxxxxxxxxxxxxx",
    "api_token: your_api_token_here",
    "SECRET=test-secret-9f8e7d6c5b4a",
  ])("ignores %s", (text) => {
    expect(found(text)).toEqual([]);
  });

  it.each(["vw7Xq8uWjxxXCMQZsPj3FGKxhT6ESrfK", "q8uW3jTestCMQZsPj3FGKhT6ESrfKv7d", "k9FakeZ2mLq7RtYp4WnXc8VbH3sJd6Ge"])(
    "finds a random key that happens to hold a placeholder word inside it (%s)",
    (value) => {
      expect(found(`deploy --token=${value} --env prod`)).toEqual([value]);
    },
  );

  it("leaves values that a provider detector reports to that detector", () => {
    expect(found(`OPENAI_API_KEY=${f.openaiProject()}`)).toEqual([]);
    expect(found(`aws_secret_access_key = ${f.awsSecretAccessKey()}`)).toEqual([]);
    expect(found(`Authorization: Bearer ${f.jwt()}`)).toEqual([]);
    expect(found(`GITHUB_TOKEN=${f.githubClassic()}`)).toEqual([]);
  });

  it("scores within 0..1 and above the default threshold", () => {
    const lower = `password = "${f.password(20)}"`;
    for (const m of generic.detect(lower, { direction: "prompt", lower: lower.toLowerCase() })) {
      expect(m.score).toBeGreaterThanOrEqual(0.5);
      expect(m.score).toBeLessThanOrEqual(1);
    }
  });
});
