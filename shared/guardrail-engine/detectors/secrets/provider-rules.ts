/**
 * Provider credential formats as data. `providerDetector` turns each family into one Detector.
 *
 * Every pattern is linear-time in V8's backtracking engine: it opens with a literal prefix or
 * a one-character lookbehind boundary (so inside a long run of token characters only the run's
 * first position can start a match), every repetition has an upper bound, and no repetition
 * contains another. Work per start position is therefore bounded by a constant.
 */
import { decodeJsonSegment, hasBase62Crc32, isAwsDocExample, isJwtIoExample, isPlaceholderPassword, near, pemEnd } from "./checks.ts";

export interface RuleHit {
  /** The finding: the named group `secret` when the pattern has one, else the whole match. */
  secret: string;
  start: number;
  end: number;
  /** The text lower-cased with offsets unchanged, for context words around the hit. */
  lower: string;
}

export interface ProviderRule {
  /** Reported as `Match.rule`. */
  rule: string;
  /**
   * Lower-case substrings, one of which every match of this rule contains; the family's
   * prefilter is their union. Few and short: each costs a scan of the text, which on a few
   * kilobytes is slower than running the rule's regex, so rules are not filtered one by one.
   */
  keywords: readonly string[];
  /** Global; add the `d` flag when the pattern captures a `secret` group inside context. */
  pattern: RegExp;
  score: number;
  /** Returns the score to report (a checksum passed, a context word is near) or null to drop the hit. */
  validate?: (hit: RuleHit, score: number) => number | null;
  /** Where a match that found only the opening of a longer secret really ends; null drops it. */
  extend?: (text: string, end: number) => number | null;
  /** Set when the filler test would misread the format (PEM bodies, URL passwords checked by `validate`). */
  skipPlaceholderCheck?: boolean;
}

export interface ProviderFamily {
  id: string;
  placeholder: string;
  description: string;
  rules: readonly ProviderRule[];
}

/** Not preceded by a token character, or preceded by a JSON-escaped newline/tab (`\n`). */
const B = String.raw`(?:(?<=\\[nrt])|(?<![A-Za-z0-9_]))`;
/** As B, for formats whose body may contain `-`. */
const BH = String.raw`(?:(?<=\\[nrt])|(?<![A-Za-z0-9_-]))`;
/**
 * An assignment between a context key and its value: `KEY=`, `key: "`, `"Key": '`, `key => `.
 * Context keys take no left boundary so that prefixed names (`PROD_AWS_SECRET_ACCESS_KEY`) count.
 */
const ASSIGN = String.raw`["']?[ \t]{0,4}(?:=>|:=|[:=])[ \t]{0,4}["']?`;

const re = (source: string, flags = "") => new RegExp(source, "g" + flags);

const checksummed = (prefixLength: number) => (hit: RuleHit, score: number) => (hasBase62Crc32(hit.secret, prefixLength) ? 0.99 : score);

export const PROVIDER_FAMILIES: readonly ProviderFamily[] = [
  {
    id: "aws_access_key",
    placeholder: "AWS_KEY",
    description: "AWS access key IDs (AKIA, ASIA, …), resource IDs, and secret access keys next to their key name",
    rules: [
      {
        rule: "aws_access_key_id",
        keywords: ["akia", "asia", "abia", "acca", "a3t"],
        // Base32 bodies today; older IDs also used 0, 1, 8 and 9, so the class is [A-Z0-9].
        pattern: re(String.raw`${B}(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])`),
        score: 0.95,
        validate: (hit, score) => (isAwsDocExample(hit.secret) ? null : score),
      },
      {
        // Users, roles, groups, policies: identifiers, not credentials, but they map an account.
        rule: "aws_unique_id",
        keywords: ["agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka"],
        pattern: re(String.raw`${B}(?:AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])`),
        score: 0.6,
      },
      {
        // 40 base64 characters are everywhere (SHA-1 in base64, blobs); only their key name makes them AWS secrets.
        rule: "aws_secret_access_key",
        keywords: ["secret"],
        pattern: re(
          String.raw`(?:aws[_-]?secret(?:[_-]?access)?[_-]?key|secret[_-]?access[_-]?key)${ASSIGN}(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
          "di",
        ),
        score: 0.95,
        validate: (hit, score) => (isAwsDocExample(hit.secret) ? null : score),
      },
    ],
  },
  {
    id: "github_token",
    placeholder: "GITHUB_TOKEN",
    description: "GitHub personal, OAuth, app and refresh tokens (CRC-32 checked) and fine-grained PATs",
    rules: [
      {
        rule: "github_classic_token",
        keywords: ["gh"],
        pattern: re(String.raw`${B}gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])`),
        // A failed checksum is still reported: a mistyped or edited token is still a token to hide.
        score: 0.8,
        validate: checksummed(4),
      },
      {
        rule: "github_fine_grained_pat",
        keywords: ["github_pat_"],
        pattern: re(String.raw`${B}github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])`),
        score: 0.97,
      },
    ],
  },
  {
    id: "gitlab_token",
    placeholder: "GITLAB_TOKEN",
    description: "GitLab personal, deploy, runner, CI job, trigger, feed, OAuth and agent tokens",
    rules: [
      {
        rule: "gitlab_token",
        keywords: ["gl"],
        // Routable tokens (GitLab 17.x) append `.<2 digits>.<crc>` to the base64url payload.
        pattern: re(
          String.raw`${BH}gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|agent|soat|ffct)-[A-Za-z0-9_-]{20,300}(?:\.[0-9]{2}\.[a-z0-9]{5,12})?(?![A-Za-z0-9_.-])`,
        ),
        score: 0.95,
      },
      {
        rule: "gitlab_runner_registration_token",
        keywords: ["gr1348941"],
        pattern: re(String.raw`${B}GR1348941[A-Za-z0-9_-]{20,40}(?![A-Za-z0-9_-])`),
        score: 0.9,
      },
    ],
  },
  {
    id: "slack_token",
    placeholder: "SLACK_TOKEN",
    description: "Slack bot, user, app-level, refresh and configuration tokens, and incoming webhook URLs",
    rules: [
      {
        rule: "slack_token",
        keywords: ["xox"],
        pattern: re(String.raw`${BH}(?:xox[abposr]|xoxe(?:\.xox[bp])?)-[0-9]{1,16}-[A-Za-z0-9-]{16,250}(?![A-Za-z0-9-])`),
        score: 0.95,
      },
      {
        rule: "slack_app_token",
        keywords: ["xapp-"],
        pattern: re(String.raw`${BH}xapp-[0-9]-[A-Z0-9]{8,16}-[0-9]{8,16}-[a-f0-9]{32,80}(?![A-Za-z0-9])`),
        score: 0.95,
      },
      {
        rule: "slack_webhook_url",
        keywords: ["hooks.slack.com"],
        pattern: re(
          String.raw`https://hooks\.slack\.com/(?:services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}|(?:workflows|triggers)/T[A-Z0-9]{8,12}/A[A-Z0-9]{8,12}/[0-9]{10,20}/[A-Za-z0-9]{32})(?![A-Za-z0-9])`,
        ),
        score: 0.97,
      },
    ],
  },
  {
    id: "stripe_key",
    placeholder: "STRIPE_KEY",
    description: "Stripe secret and restricted keys (live and test) and webhook signing secrets",
    rules: [
      {
        // Test-mode keys still read and write the account's test data and settings, so they are
        // reported too, below live keys so an org can set a threshold between them.
        rule: "stripe_secret_key",
        keywords: ["k_live_", "k_test_"],
        pattern: re(String.raw`${B}[rs]k_(?:live|test)_[A-Za-z0-9]{20,247}(?![A-Za-z0-9])`),
        score: 0.97,
        validate: (hit, score) => (hit.secret.includes("_test_") ? 0.85 : score),
      },
      {
        rule: "stripe_webhook_secret",
        keywords: ["whsec_"],
        pattern: re(String.raw`${B}whsec_[A-Za-z0-9+/]{32,80}={0,2}(?![A-Za-z0-9+/=])`),
        score: 0.9,
      },
    ],
  },
  {
    id: "openai_key",
    placeholder: "OPENAI_KEY",
    description: "OpenAI project, service-account, admin and legacy API keys",
    rules: [
      {
        rule: "openai_project_key",
        keywords: ["sk-"],
        pattern: re(String.raw`${BH}sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}(?![A-Za-z0-9_-])`),
        score: 0.9,
        // "T3BlbkFJ" is base64 for "OpenAI"; every key OpenAI issues carries it.
        validate: (hit, score) => (hit.secret.includes("T3BlbkFJ") ? 0.99 : score),
      },
      {
        rule: "openai_legacy_key",
        keywords: ["sk-"],
        pattern: re(String.raw`${BH}sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}(?![A-Za-z0-9_-])`),
        score: 0.99,
      },
    ],
  },
  {
    id: "anthropic_key",
    placeholder: "ANTHROPIC_KEY",
    description: "Anthropic API, admin and OAuth keys (sk-ant-…)",
    rules: [
      {
        rule: "anthropic_key",
        keywords: ["sk-ant-"],
        pattern: re(String.raw`${BH}sk-ant-(?:api|admin|oat|ort)[0-9]{2}-[A-Za-z0-9_-]{80,120}(?![A-Za-z0-9_-])`),
        score: 0.93,
        // API and admin keys are 93 random characters and a closing "AA".
        validate: (hit, score) => (/-[A-Za-z0-9_-]{93}AA$/.test(hit.secret) ? 0.99 : score),
      },
    ],
  },
  {
    id: "google_api_key",
    placeholder: "GOOGLE_KEY",
    description: "Google API keys (AIza…) and OAuth client secrets (GOCSPX-…)",
    rules: [
      {
        rule: "google_api_key",
        keywords: ["aiza"],
        pattern: re(String.raw`${BH}AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])`),
        score: 0.95,
      },
      {
        rule: "google_oauth_client_secret",
        keywords: ["gocspx-"],
        pattern: re(String.raw`${BH}GOCSPX-[A-Za-z0-9_-]{28}(?![A-Za-z0-9_-])`),
        score: 0.95,
      },
    ],
  },
  {
    id: "azure_key",
    placeholder: "AZURE_KEY",
    description: "Azure storage account keys and connection strings, shared access keys, Entra client secrets, Cognitive/OpenAI keys by name",
    rules: [
      {
        rule: "azure_storage_account_key",
        keywords: ["accountkey", "storage"],
        pattern: re(
          String.raw`(?:AccountKey|azure[_-]?storage[_-]?(?:account[_-]?)?key|storage[_-]?account[_-]?key)${ASSIGN}(?<secret>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])`,
          "di",
        ),
        score: 0.93,
        validate: (hit, score) => (near(hit.lower, hit.start, hit.end, ["defaultendpointsprotocol"], 300) ? 0.98 : score),
      },
      {
        rule: "azure_shared_access_key",
        keywords: ["sharedaccesskey"],
        pattern: re(String.raw`SharedAccessKey=(?<secret>[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])`, "d"),
        score: 0.93,
      },
      {
        // Entra ID (Azure AD) app secrets carry "Q~" after a 3-character id and a digit.
        rule: "azure_ad_client_secret",
        keywords: ["q~"],
        pattern: re(String.raw`(?:(?<=\\[nrt])|(?<![A-Za-z0-9_~.-]))[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])`),
        score: 0.9,
      },
      {
        // 32 hex characters are MD5s and ids everywhere; only an Azure key name makes them a key.
        rule: "azure_cognitive_key",
        keywords: ["azure", "ocp-apim", "api-key"],
        pattern: re(
          String.raw`(?:azure[A-Za-z0-9_-]{0,40}key|ocp-apim-subscription-key|api-key)${ASSIGN}(?<secret>[a-f0-9]{32})(?![A-Za-z0-9])`,
          "di",
        ),
        score: 0.85,
      },
    ],
  },
  {
    id: "twilio_key",
    placeholder: "TWILIO_KEY",
    description: "Twilio API key SIDs, auth tokens by name, and account SIDs next to a Twilio context word",
    rules: [
      {
        rule: "twilio_api_key",
        keywords: ["sk"],
        pattern: re(String.raw`${B}SK[0-9a-f]{32}(?![A-Za-z0-9])`),
        score: 0.85,
        validate: (hit, score) => (near(hit.lower, hit.start, hit.end, ["twilio"], 200) ? 0.95 : score),
      },
      {
        // `TWILIO_AUTH_TOKEN=…`, or `auth_token` inside a Twilio block.
        rule: "twilio_auth_token",
        keywords: ["twilio"],
        pattern: re(String.raw`(?:twilio[_-]?)?auth[_-]?token${ASSIGN}(?<secret>[a-f0-9]{32})(?![A-Za-z0-9])`, "di"),
        score: 0.93,
        validate: (hit, score) => (near(hit.lower, hit.start, hit.end, ["twilio"], 200) ? score : null),
      },
      {
        rule: "twilio_account_sid",
        keywords: ["twilio", "sid"],
        pattern: re(String.raw`${B}AC[0-9a-f]{32}(?![A-Za-z0-9])`),
        score: 0.7,
        validate: (hit, score) => (near(hit.lower, hit.start, hit.end, ["twilio", "account_sid", "accountsid"], 200) ? score : null),
      },
    ],
  },
  {
    id: "sendgrid_key",
    placeholder: "SENDGRID_KEY",
    description: "SendGrid API keys (SG.<22>.<43>)",
    rules: [
      {
        rule: "sendgrid_key",
        keywords: ["sg."],
        pattern: re(String.raw`${B}SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`),
        score: 0.97,
      },
    ],
  },
  {
    id: "npm_token",
    placeholder: "NPM_TOKEN",
    description: "npm access tokens (npm_…, CRC-32 checked)",
    rules: [
      {
        rule: "npm_token",
        keywords: ["npm_"],
        pattern: re(String.raw`${B}npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])`),
        score: 0.8,
        validate: checksummed(4),
      },
    ],
  },
  {
    id: "private_key",
    placeholder: "PRIVATE_KEY",
    description: "PEM and OpenSSH private keys, BEGIN line through END line",
    rules: [
      {
        rule: "pem_private_key",
        keywords: ["private key"],
        pattern: re(String.raw`-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----`),
        score: 0.99,
        extend: pemEnd,
        skipPlaceholderCheck: true,
      },
    ],
  },
  {
    id: "jwt",
    placeholder: "JWT",
    description: "JSON Web Tokens: three base64url segments whose header decodes to JSON with `alg`",
    rules: [
      {
        rule: "jwt",
        keywords: ["eyj"],
        // Header and payload are base64url JSON objects, so both start with "eyJ" ('{"').
        pattern: re(String.raw`${BH}eyJ[A-Za-z0-9_-]{8,2000}\.eyJ[A-Za-z0-9_-]{8,16000}\.[A-Za-z0-9_-]{16,1000}(?![A-Za-z0-9_.-])`),
        score: 0.9,
        validate: (hit, score) => {
          if (isJwtIoExample(hit.secret)) return null;
          const header = decodeJsonSegment(hit.secret.slice(0, hit.secret.indexOf(".")));
          return header && typeof header.alg === "string" ? score : null;
        },
      },
    ],
  },
  {
    id: "database_url",
    placeholder: "DB_PASSWORD",
    description: "Passwords in database and broker URLs (postgres, mysql, mongodb, redis, amqp, …)",
    rules: [
      {
        // The finding is the password alone: the scheme, user, host and database stay readable,
        // which is what a model needs to help with a connection problem, and the password is
        // the only part that grants access.
        rule: "database_url_password",
        keywords: ["://"],
        pattern: re(
          String.raw`(?<![A-Za-z0-9+.-])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|couchdb|neo4j(?:\+s)?|cockroachdb)://[^\s:/@'"<>]{0,128}:(?<secret>[^\s@/'"<>]{1,256})@(?=[A-Za-z0-9\[])`,
          "di",
        ),
        score: 0.9,
        validate: (hit, score) => {
          if (isPlaceholderPassword(hit.secret)) return null;
          return hit.secret.length < 6 ? 0.7 : score;
        },
        skipPlaceholderCheck: true,
      },
    ],
  },
];
