// Writes test/fixtures/guardrails/secrets.jsonl: labelled positives for every secret detector
// and hard negatives (placeholders, ids, digests, prose, env references). Seeded, so the output
// is stable; rerun after changing a template: `node scripts/eval/generate-secrets-corpus.ts`.
// Texts avoid emails, phone numbers, IP addresses, credential-file paths and shell pipelines so
// that the other detector families have nothing to find in this file.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fakes, seededRandom } from "../../shared/guardrail-engine/detectors/secrets/fakes.ts";
import type { Direction } from "../../shared/guardrail-engine/detectors/types.ts";

interface Sample {
  text: string;
  direction: Direction;
  expect: string[];
  note: string;
}

const random = seededRandom(20261125);
const f = fakes(random);
const one = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const uuid = () => [8, 4, 4, 4, 12].map((n) => f.hex(n)).join("-");
const samples: Sample[] = [];
const pos = (expect: string | string[], direction: Direction, note: string, text: string) =>
  samples.push({ text, direction, expect: Array.isArray(expect) ? expect : [expect], note });
const neg = (direction: Direction, note: string, text: string) => samples.push({ text, direction, expect: [], note });

// ---- positives -------------------------------------------------------------------------------

pos("aws_access_key", "prompt", "access key id in a question", `Why does boto3 say InvalidClientTokenId for ${f.awsAccessKeyId()}? The region is eu-west-1.`);
pos("aws_access_key", "tool_result", "shared credentials file", `[default]\naws_access_key_id = ${f.awsAccessKeyId()}\naws_secret_access_key = ${f.awsSecretAccessKey()}\nregion = us-east-1`);
pos("aws_access_key", "prompt", "STS temporary key", `export AWS_ACCESS_KEY_ID=${f.awsAccessKeyId("ASIA")}`);
pos("aws_access_key", "tool_args", "JSON from sts assume-role", JSON.stringify({ Credentials: { AccessKeyId: f.awsAccessKeyId("ASIA"), SecretAccessKey: f.awsSecretAccessKey(), Expiration: "2026-11-25T12:00:00Z" } }));
pos("aws_access_key", "response", "terraform provider block", `provider "aws" {\n  access_key = "${f.awsAccessKeyId()}"\n  secret_key = "${f.awsSecretAccessKey()}"\n}`);
pos("aws_access_key", "prompt", "secret key by name only", `My AWS_SECRET_ACCESS_KEY=${f.awsSecretAccessKey()} stopped working after rotation, what now?`);
pos("aws_access_key", "hook", "role id in an error message", `AccessDenied: role ${f.awsUniqueId("AROA")}:session-42 is not authorized to perform s3:GetObject`);
pos("aws_access_key", "tool_result", "CI log line", `2026-11-25T10:01:02Z using key ${f.awsAccessKeyId()} for deploy to bucket assets-prod`);
pos("aws_access_key", "prompt", "docker run env", `docker run -e AWS_ACCESS_KEY_ID=${f.awsAccessKeyId()} -e AWS_SECRET_ACCESS_KEY=${f.awsSecretAccessKey()} backup:latest`);
pos("aws_access_key", "response", "yaml secret", `aws:\n  secret_access_key: "${f.awsSecretAccessKey()}"\n  bucket: reports`);

pos("github_token", "prompt", "classic PAT", `git push fails with 403 even though I set GH_TOKEN=${f.githubClassic()}`);
pos("github_token", "tool_result", "remote URL with token", `origin\thttps://${f.githubClassic()}@github.com/acme/api.git (fetch)`);
pos("github_token", "tool_args", "OAuth token in headers", JSON.stringify({ headers: { Authorization: `token ${f.githubClassic("gho_")}` }, url: "https://api.github.com/user" }));
pos("github_token", "prompt", "app installation token", `The action logs show ${f.githubClassic("ghs_")} expiring after one hour, is that expected?`);
pos("github_token", "response", "user-to-server token", `const octokit = new Octokit({ auth: "${f.githubClassic("ghu_")}" });`);
pos("github_token", "prompt", "refresh token", `refresh_token=${f.githubClassic("ghr_")}&grant_type=refresh_token`);
pos("github_token", "tool_result", "fine-grained PAT", `GITHUB_PAT=${f.githubFineGrained()}`);
pos("github_token", "prompt", "fine-grained PAT in a question", `Is ${f.githubFineGrained()} scoped to one repository or all of them?`);
pos("github_token", "hook", "token in a config file", `[github]\n  user = octo\n  token = ${f.githubClassic()}`);
pos("github_token", "prompt", "checksum-failing classic token (edited by hand)", `token ${f.githubBadChecksum()} gives Bad credentials`);

pos("gitlab_token", "prompt", "personal access token", `curl --header "PRIVATE-TOKEN: ${f.gitlab()}" https://gitlab.acme.dev/api/v4/projects`);
pos("gitlab_token", "tool_result", "deploy token", `GITLAB_DEPLOY_TOKEN=${f.gitlab("gldt-")}`);
pos("gitlab_token", "tool_args", "runner token in config.toml", JSON.stringify({ content: `[[runners]]\n  url = "https://gitlab.acme.dev"\n  token = "${f.gitlab("glrt-")}"` }));
pos("gitlab_token", "prompt", "routable PAT", `my new token ${f.gitlabRoutable()} is rejected by the API`);
pos("gitlab_token", "response", "trigger token", `Trigger the pipeline with token=${f.gitlab("glptt-")} and ref=main.`);
pos("gitlab_token", "hook", "CI job token", `Using ${f.gitlab("glcbt-")} to download artifacts`);
pos("gitlab_token", "prompt", "feed token", `feed URL ends with ?feed_token=${f.gitlab("glft-")}`);
pos("gitlab_token", "tool_result", "OAuth application secret", `application secret: ${f.gitlab("gloas-")}`);

pos("slack_token", "prompt", "bot token", `SLACK_BOT_TOKEN=${f.slackBot()} but chat.postMessage returns not_in_channel`);
pos("slack_token", "tool_result", "user token", `{"ok":true,"access_token":"${f.slackUser()}","scope":"chat:write"}`);
pos("slack_token", "prompt", "app-level token", `socket mode needs ${f.slackApp()} right?`);
pos("slack_token", "response", "incoming webhook", `requests.post("${f.slackWebhook()}", json={"text": "deploy finished"})`);
pos("slack_token", "tool_args", "webhook in alert config", JSON.stringify({ destination: "slack", webhook_url: f.slackWebhook() }));
pos("slack_token", "hook", "bot token in env dump", `SLACK_SIGNING_REGION=eu\nSLACK_TOKEN=${f.slackBot()}`);
pos("slack_token", "prompt", "webhook in a question", `Our alerts go to ${f.slackWebhook()} and stopped yesterday.`);
pos("slack_token", "tool_result", "bot token in JSON", JSON.stringify({ slack: { token: f.slackBot(), channel: "#ops" } }));

pos("stripe_key", "prompt", "live secret key", `stripe.api_key = "${f.stripe()}" raises AuthenticationError`);
pos("stripe_key", "tool_result", "test secret key in .env", `STRIPE_SECRET_KEY=${f.stripe("sk_test_")}\nSTRIPE_CURRENCY=eur`);
pos("stripe_key", "response", "restricted key", `const stripe = new Stripe("${f.stripe("rk_live_")}");`);
pos("stripe_key", "prompt", "webhook secret", `endpoint secret is ${f.stripeWebhook()}, signatures still fail`);
pos("stripe_key", "tool_args", "key in JSON config", JSON.stringify({ billing: { provider: "stripe", secret: f.stripe() } }));
pos("stripe_key", "hook", "test key in shell history", `export STRIPE_API_KEY=${f.stripe("sk_test_")}`);
pos("stripe_key", "prompt", "live key and webhook secret", `keys: ${f.stripe()} / ${f.stripeWebhook()}`);
pos("stripe_key", "tool_result", "curl basic auth with key", `curl https://api.stripe.com/v1/charges -u ${f.stripe()}:`);

pos("openai_key", "prompt", "project key", `openai.AuthenticationError with key ${f.openaiProject()} — did I paste it wrong?`);
pos("openai_key", "tool_result", ".env with service account key", `OPENAI_API_KEY=${f.openaiProject("svcacct")}\nOPENAI_ORG=org-acme`);
pos("openai_key", "response", "legacy key in code", `client = OpenAI(api_key="${f.openaiLegacy()}")`);
pos("openai_key", "tool_args", "admin key in JSON", JSON.stringify({ env: { OPENAI_ADMIN_KEY: f.openaiProject("admin") } }));
pos("openai_key", "prompt", "project key in curl", `curl https://api.openai.com/v1/models -H "Authorization: Bearer ${f.openaiProject()}"`);
pos("openai_key", "hook", "legacy key in a log", `request failed for key=${f.openaiLegacy()} status=401`);
pos("openai_key", "prompt", "key pasted alone", f.openaiProject());
pos("openai_key", "tool_result", "yaml config", `llm:\n  provider: openai\n  api_key: ${f.openaiProject()}`);

pos("anthropic_key", "prompt", "API key", `export ANTHROPIC_API_KEY=${f.anthropic()}`);
pos("anthropic_key", "tool_result", "admin key", `ANTHROPIC_ADMIN_KEY="${f.anthropic("admin01")}"`);
pos("anthropic_key", "response", "SDK init", `client = anthropic.Anthropic(api_key="${f.anthropic()}")`);
pos("anthropic_key", "tool_args", "key in headers", JSON.stringify({ headers: { "x-api-key": f.anthropic(), "anthropic-version": "2023-06-01" } }));
pos("anthropic_key", "prompt", "key in a question", `Why does ${f.anthropic()} get 401 on the batches endpoint?`);
pos("anthropic_key", "hook", "key in settings", JSON.stringify({ env: { ANTHROPIC_API_KEY: f.anthropic() } }));
pos("anthropic_key", "tool_result", "OAuth token", `oauth access token: ${f.anthropic("oat01")}`);
pos("anthropic_key", "prompt", "key pasted alone", f.anthropic());

pos("google_api_key", "prompt", "Maps key", `<script src="https://maps.googleapis.com/maps/api/js?key=${f.googleApiKey()}"></script> shows a watermark`);
pos("google_api_key", "tool_result", "Gemini key in .env", `GEMINI_API_KEY=${f.googleApiKey()}`);
pos("google_api_key", "response", "Firebase config", `const firebaseConfig = {\n  apiKey: "${f.googleApiKey()}",\n  projectId: "acme-app"\n};`);
pos("google_api_key", "tool_args", "OAuth client secret", JSON.stringify({ installed: { client_id: "1234-abc.apps.googleusercontent.com", client_secret: f.googleOauthSecret() } }));
pos("google_api_key", "prompt", "key in a URL", `https://generativelanguage.googleapis.com/v1beta/models?key=${f.googleApiKey()}`);
pos("google_api_key", "hook", "key in a log line", `geocode request key=${f.googleApiKey()} quota exceeded`);
pos("google_api_key", "prompt", "OAuth secret in a question", `client secret ${f.googleOauthSecret()} is returned as invalid_client`);
pos("google_api_key", "tool_result", "yaml", `google:\n  api_key: "${f.googleApiKey()}"`);

const accountName = () => one(["acmestore", "reportsprod", "mediacdn01", "backupsweu"]);
pos("azure_key", "prompt", "storage connection string", `DefaultEndpointsProtocol=https;AccountName=${accountName()};AccountKey=${f.azureStorageKey()};EndpointSuffix=core.windows.net`);
pos("azure_key", "tool_result", "appsettings.json", JSON.stringify({ ConnectionStrings: { Storage: `DefaultEndpointsProtocol=https;AccountName=${accountName()};AccountKey=${f.azureStorageKey()};EndpointSuffix=core.windows.net` } }));
pos("azure_key", "prompt", "storage key by name", `AZURE_STORAGE_KEY=${f.azureStorageKey()}`);
pos("azure_key", "response", "service bus connection string", `Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${f.azureSharedAccessKey()}`);
pos("azure_key", "tool_args", "Entra client secret", JSON.stringify({ tenant: "acme", clientId: uuid(), clientSecret: f.azureAdSecret() }));
pos("azure_key", "prompt", "Azure OpenAI key", `AZURE_OPENAI_API_KEY=${f.hex(32)}\nAZURE_OPENAI_ENDPOINT=https://acme-oai.openai.azure.com/`);
pos("azure_key", "hook", "cognitive key header", `Ocp-Apim-Subscription-Key: ${f.hex(32)}`);
pos("azure_key", "tool_result", "api-key header", `api-key: ${f.hex(32)}`);
pos("azure_key", "prompt", "Entra secret pasted", `the app registration secret is ${f.azureAdSecret()} and it expires in May`);
pos("azure_key", "response", "speech key in yaml", `azure_speech_key: "${f.hex(32)}"`);

pos("twilio_key", "prompt", "API key SID", `Twilio API key ${f.twilioApiKey()} with its secret works locally only`);
pos("twilio_key", "tool_result", ".env with auth token", `TWILIO_ACCOUNT_SID=${f.twilioAccountSid()}\nTWILIO_AUTH_TOKEN=${f.hex(32)}`);
pos("twilio_key", "response", "client init", `client = Client("${f.twilioApiKey()}", api_secret, account_sid)`);
pos("twilio_key", "tool_args", "account SID and auth token", JSON.stringify({ twilio: { account_sid: f.twilioAccountSid(), auth_token: f.hex(32) } }));
pos("twilio_key", "prompt", "auth token by name", `twilio_auth_token = "${f.hex(32)}"`);
pos("twilio_key", "hook", "API key in a log", `twilio request with key ${f.twilioApiKey()} rejected`);
pos("twilio_key", "prompt", "account SID with Twilio context", `My Twilio account is ${f.twilioAccountSid()}, why is SMS to Germany blocked?`);
pos("twilio_key", "tool_result", "API key SID alone", `api key sid: ${f.twilioApiKey()}`);

pos("sendgrid_key", "prompt", "API key", `SENDGRID_API_KEY=${f.sendgrid()}`);
pos("sendgrid_key", "tool_result", "config JSON", JSON.stringify({ mail: { provider: "sendgrid", key: f.sendgrid() } }));
pos("sendgrid_key", "response", "code", `sg = SendGridAPIClient("${f.sendgrid()}")`);
pos("sendgrid_key", "prompt", "key in a question", `Is ${f.sendgrid()} a full-access key or restricted?`);
pos("sendgrid_key", "hook", "curl header", `curl -H "Authorization: Bearer ${f.sendgrid()}" https://api.sendgrid.com/v3/mail/send`);
pos("sendgrid_key", "tool_args", "env map", JSON.stringify({ env: { SENDGRID_API_KEY: f.sendgrid() } }));
pos("sendgrid_key", "prompt", "key pasted alone", f.sendgrid());
pos("sendgrid_key", "tool_result", "yaml", `sendgrid:\n  api_key: ${f.sendgrid()}`);

pos("npm_token", "prompt", ".npmrc", `//registry.npmjs.org/:_authToken=${f.npm()}`);
pos("npm_token", "tool_result", "CI env", `NPM_TOKEN=${f.npm()}`);
pos("npm_token", "response", "GitHub Actions step", `- run: npm publish\n  env:\n    NODE_AUTH_TOKEN: ${f.npm()}`);
pos("npm_token", "prompt", "token in a question", `npm publish says 403 with ${f.npm()}, is it a granular token?`);
pos("npm_token", "tool_args", "npmrc content", JSON.stringify({ path: "project/.npmrc", content: `//registry.npmjs.org/:_authToken=${f.npm()}\n` }));
pos("npm_token", "hook", "token in a log", `npm notice using token ${f.npm()}`);
pos("npm_token", "prompt", "token pasted alone", f.npm());
pos("npm_token", "tool_result", "yarnrc", `npmAuthToken: "${f.npm()}"`);

pos("private_key", "prompt", "RSA key", `This key is rejected by ssh-add:\n${f.pem("RSA ")}`);
pos("private_key", "tool_result", "OpenSSH key", f.pem("OPENSSH ", 8));
pos("private_key", "prompt", "PKCS#8 key", `server.key:\n${f.pem("", 16)}`);
pos("private_key", "response", "EC key", `Here is the config with the key inline:\n${f.pem("EC ", 3)}`);
pos("private_key", "tool_result", "service account JSON", JSON.stringify({ type: "service_account", project_id: "acme-prod", private_key: f.pem("", 12) + "\n" }));
pos("private_key", "prompt", "encrypted key", f.pem("ENCRYPTED ", 10));
pos("private_key", "prompt", "truncated paste (no END line)", `my key starts like this\n${f.pem("RSA ", 6).split("\n").slice(0, 5).join("\n")}`);
pos("private_key", "hook", "DSA key", f.pem("DSA ", 6));
pos("private_key", "tool_result", "PGP key block", f.pem("PGP ", 10).replace(/PRIVATE KEY-----/g, "PRIVATE KEY BLOCK-----"));

pos("jwt", "prompt", "bearer JWT", `Authorization: Bearer ${f.jwt()}`);
pos("jwt", "tool_result", "token response", JSON.stringify({ access_token: f.jwt({ alg: "RS256", kid: "k1", typ: "JWT" }), token_type: "Bearer", expires_in: 3600 }));
pos("jwt", "prompt", "decode request", `Can you decode this and tell me when it expires? ${f.jwt({ alg: "ES256", typ: "JWT" })}`);
pos("jwt", "response", "cookie", `Set-Cookie: session=${f.jwt()}; HttpOnly; Secure`);
pos("jwt", "tool_args", "id token", JSON.stringify({ id_token: f.jwt({ alg: "RS256", kid: "abc" }) }));
pos("jwt", "hook", "JWT in a log", `verify failed for ${f.jwt({ alg: "HS512" })}`);
pos("jwt", "prompt", "JWT pasted alone", f.jwt({ alg: "RS256" }));
pos("jwt", "tool_result", "JWT in a URL fragment", `https://app.acme.dev/callback#access_token=${f.jwt()}&state=xyz`);

const host = () => one(["db.internal", "pg-primary.acme.dev", "mysql.prod.svc.cluster.local", "cache.acme.dev", "cluster0.ab1cd.mongodb.net"]);
pos("database_url", "prompt", "postgres URL", `DATABASE_URL=postgres://app:${f.password()}@${host()}:5432/app`);
pos("database_url", "tool_result", "postgresql URL in config", `sqlalchemy.url = postgresql://report_user:${f.password()}@${host()}/reports`);
pos("database_url", "prompt", "mysql URL", `mysql://root:${f.password(14)}@${host()}:3306/shop fails with access denied`);
pos("database_url", "response", "mongodb+srv URL", `const uri = "mongodb+srv://appUser:${f.password()}@${host()}/?retryWrites=true";`);
pos("database_url", "tool_args", "redis URL with empty user", JSON.stringify({ REDIS_URL: `redis://:${f.password(20)}@${host()}:6379/0` }));
pos("database_url", "hook", "amqp URL", `BROKER_URL=amqps://worker:${f.password()}@${host()}/vhost`);
pos("database_url", "prompt", "rediss URL", `rediss://default:${f.password(24)}@${host()}:6380`);
pos("database_url", "tool_result", "JDBC URL", `jdbc:mysql://svc_ro:${f.password()}@${host()}:3306/inventory`);
pos("database_url", "prompt", "weak password is still a password", `postgres://postgres:s3cret@${host()}:5432/postgres`);
pos("database_url", "response", "mongodb URL in yaml", `mongo:\n  uri: mongodb://admin:${f.password()}@${host()}:27017/admin`);

const generic: [Direction, string, string][] = [
  ["prompt", "DB password in .env", `DB_PASSWORD=${f.password(16)}`],
  ["tool_result", "JSON client secret", JSON.stringify({ client_id: "acme-web", client_secret: f.randomKey(40) })],
  ["prompt", "python assignment", `API_KEY = "${f.randomKey(32)}"`],
  ["response", "yaml password", `database:\n  user: app\n  password: "${f.password(18)}"`],
  ["tool_args", "JSON api key of unknown provider", JSON.stringify({ provider: "acme-maps", api_key: f.randomKey(32, "0123456789abcdef") })],
  ["prompt", "session secret", `SESSION_SECRET=${f.randomKey(48)}`],
  ["hook", "CLI flag", `deploy --token=${f.randomKey(40)} --env prod`],
  ["prompt", "Ruby hash", `config.secret_key_base = "${f.randomKey(64, "0123456789abcdef")}"`],
  ["tool_result", "PHP array", `'password' => '${f.password(14)}',`],
  ["prompt", "Go assignment", `accessKey := "${f.randomKey(28)}"`],
  ["response", "JS object", `const cfg = { apiKey: "${f.randomKey(36)}", region: "eu" };`],
  ["tool_result", "docker compose env", `environment:\n  - POSTGRES_PASSWORD=${f.password(20)}`],
  ["prompt", "Authorization header with opaque bearer", `Authorization: Bearer ${f.randomKey(40)}`],
  ["tool_args", "basic auth header", JSON.stringify({ headers: { Authorization: `Basic ${btoa(`svc-deploy:${f.password(16)}`)}` } })],
  ["prompt", "private key passphrase", `PRIVATE_KEY_PASSPHRASE=${f.password(16)}`],
  ["hook", "HMAC webhook secret", `WEBHOOK_SECRET=${f.randomKey(32, "0123456789abcdef")}`],
  ["prompt", "password pasted in a sentence", `my password: ${f.password(14)} — please store it in the vault for me`],
  ["tool_result", "ini file", `[smtp]\nhost = mail.acme.dev\npassword = ${f.password(16)}`],
  ["response", "terraform variable", `variable "db_password" {\n  default = "${f.password(18)}"\n}`],
  ["prompt", "auth token in JSON", JSON.stringify({ authToken: f.randomKey(32) })],
  ["tool_args", "credentials key", JSON.stringify({ credentials: f.randomKey(44, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") })],
  ["prompt", "UUID-shaped API key by name", `HEROKU_API_KEY=${uuid()}`],
  ["tool_result", "access key of unknown provider", `ACCESS_KEY=${f.randomKey(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`],
  ["prompt", "kotlin val", `val secret = "${f.randomKey(24)}"`],
  ["response", "env export", `export APP_SECRET='${f.randomKey(30)}'`],
  ["prompt", "API key in a URL query", `GET https://api.acme-weather.dev/v1/forecast?api_key=${f.randomKey(32)}&units=metric`],
  ["tool_result", "XML element", `<datasource>\n  <username>report</username>\n  <password>${f.password(16)}</password>\n</datasource>`],
  ["prompt", "password in a sentence with 'is'", `the staging admin password is ${f.password(14)}. can you log in and check the queue?`],
  ["hook", "PowerShell env", `$env:API_TOKEN = "${f.randomKey(36)}"`],
  ["tool_result", "Java properties", `spring.datasource.username=app\nspring.datasource.password=${f.password(18)}`],
  ["response", "TOML table", `[auth]\ntoken = "${f.randomKey(40)}"`],
  ["prompt", "Markdown code fence", "```env\nSECRET_KEY=" + f.randomKey(50) + "\nDEBUG=false\n```"],
  ["tool_result", "CRLF env file", `NODE_ENV=production\r\nSESSION_SECRET=${f.randomKey(32)}\r\n`],
  ["tool_args", "X-Api-Key header", JSON.stringify({ headers: { "X-Api-Key": f.randomKey(32) } })],
];
for (const [direction, note, text] of generic) pos("generic_secret", direction, note, text);

pos("aws_access_key", "tool_result", "console CSV export", `Access key ID,Secret access key\n${f.awsAccessKeyId()},${f.awsSecretAccessKey()}`);
pos("github_token", "response", "token in Markdown backticks", `Use \`${f.githubClassic()}\` as the value of the secret.`);
pos("slack_token", "response", "bot token in Python", `client = WebClient(token="${f.slackBot()}")`);
pos("jwt", "prompt", "JWT in a curl cookie", `curl -b "auth=${f.jwt()}" https://app.acme.dev/api/me`);
pos(["aws_access_key", "github_token", "database_url"], "tool_result", ".env with several secrets", `AWS_ACCESS_KEY_ID=${f.awsAccessKeyId()}\nGITHUB_TOKEN=${f.githubClassic()}\nDATABASE_URL=postgres://app:${f.password()}@${host()}/app`);
pos(["openai_key", "anthropic_key", "generic_secret"], "prompt", "several keys in one prompt", `keys for the eval harness: OPENAI_API_KEY=${f.openaiProject()} ANTHROPIC_API_KEY=${f.anthropic()} JUDGE_SECRET=${f.randomKey(32)}`);
pos(["slack_token", "jwt"], "tool_result", "slack token and a JWT", `slack=${f.slackBot()}\nsession=${f.jwt()}`);
pos(["private_key", "generic_secret"], "prompt", "key and its passphrase", `${f.pem("ENCRYPTED ", 6)}\npassphrase: "${f.password(16)}"`);
pos(["stripe_key", "sendgrid_key"], "response", "billing and mail keys", `STRIPE_SECRET_KEY=${f.stripe()}\nSENDGRID_API_KEY=${f.sendgrid()}`);

// ---- hard negatives --------------------------------------------------------------------------

const placeholders: [Direction, string, string][] = [
  ["prompt", "ellipsis OpenAI key", "set OPENAI_API_KEY=sk-... and run the script"],
  ["response", "ellipsis project key", 'client = OpenAI(api_key="sk-proj-...")'],
  ["prompt", "AWS X placeholder", "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX"],
  ["response", "AWS doc example key id", "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE"],
  ["response", "AWS doc example secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
  ["prompt", "angle-bracket token", "curl -H 'Authorization: Bearer <YOUR_TOKEN>' https://api.acme.dev/v1/me"],
  ["response", "GitHub placeholder", "export GITHUB_TOKEN=ghp_your_token_here"],
  ["response", "GitHub x placeholder", `GH_TOKEN=ghp_${"x".repeat(36)}`],
  ["response", "Slack placeholder", "SLACK_BOT_TOKEN=xoxb-your-bot-token"],
  ["response", "Stripe X placeholder", `stripe.api_key = "sk_live_${"X".repeat(24)}"`],
  ["response", "Stripe ellipsis", "Use your secret key (sk_test_...) on the server only."],
  ["response", "Anthropic ellipsis", "ANTHROPIC_API_KEY=sk-ant-api03-..."],
  ["response", "GitLab x placeholder", `PRIVATE-TOKEN: glpat-${"x".repeat(20)}`],
  ["response", "SendGrid placeholder", "SENDGRID_API_KEY=SG.xxxxxxxx.yyyyyyyy"],
  ["response", "npm placeholder", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}"],
  ["response", "Google placeholder", 'apiKey: "AIzaSy...your-key"'],
  ["response", "Azure connection string placeholder", "DefaultEndpointsProtocol=https;AccountName=<account>;AccountKey=<key>;EndpointSuffix=core.windows.net"],
  ["response", "Postgres doc URL", "DATABASE_URL=postgres://user:password@localhost:5432/mydb"],
  ["response", "Postgres env interpolation", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app"],
  ["response", "MySQL angle placeholder", "mysql://root:<password>@db.internal:3306/shop"],
  ["response", "Mongo Atlas template", "mongodb+srv://<username>:<password>@cluster0.example.mongodb.net/"],
  ["tool_result", "Redis masked password", "redis://:****@cache.acme.dev:6379"],
  ["response", "Jinja template", "password: {{ db_password }}"],
  ["response", "Helm template", 'token: "{{ .Values.apiToken }}"'],
  ["response", "REDACTED value", "api_key: REDACTED"],
  ["tool_result", "masked password", "password: ********"],
  ["prompt", "changeme", "ADMIN_PASSWORD=changeme"],
  ["response", "your_api_key_here", 'API_KEY = "your_api_key_here"'],
  ["response", "dummy value", 'secret = "dummy-secret-for-tests"'],
  ["response", "example value", 'client_secret: "example-client-secret-123"'],
  ["response", "PEM with ellipsis body", "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"],
  ["response", "PEM truncated in docs", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC...\n-----END PRIVATE KEY-----"],
  ["response", "JWT placeholder", "Authorization: Bearer eyJhbGciOi...<snip>"],
  ["response", "null token", "token: null"],
  ["response", "boolean auth", "auth: false"],
  ["response", "TODO marker", "STRIPE_WEBHOOK_SECRET=TODO_fill_me_in"],
  ["response", "header placeholder", "X-Api-Key: <your-api-key>"],
  ["response", "empty XML element", "<password></password>"],
];
for (const [direction, note, text] of placeholders) neg(direction, `placeholder: ${note}`, text);

const references: [Direction, string, string][] = [
  ["response", "shell env reference", "curl -H \"Authorization: Bearer ${OPENAI_API_KEY}\" https://api.openai.com/v1/models"],
  ["response", "python os.environ", "api_key = os.environ['OPENAI_API_KEY']"],
  ["response", "python getenv", 'password = os.getenv("DB_PASSWORD")'],
  ["response", "node process.env", "const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);"],
  ["response", "node process.env in object", "{ apiKey: process.env.ANTHROPIC_API_KEY, maxRetries: 2 }"],
  ["response", "GitHub Actions secret", "env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"],
  ["response", "dollar reference", "ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY"],
  ["response", "Docker secret file", "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password"],
  ["response", "key file path", "private_key: ./keys/deploy_ed25519.pem"],
  ["response", "vault reference", "db_password: vault:secret/data/prod/db#password"],
  ["response", "AWS secrets manager ARN", "secret_arn: arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db"],
  ["response", "getpass call", "password = getpass.getpass(prompt='Password: ')"],
  ["response", "header lookup", "token = request.headers.get('Authorization')"],
  ["response", "settings attribute", "SECRET_KEY = settings.DJANGO_SECRET_KEY"],
  ["response", "function call", "accessToken = await getAccessToken(clientId, scopes)"],
  ["response", "kwargs reference", "client = Client(api_key=api_key, timeout=30)"],
  ["response", "URL without credentials", "token_url: https://auth.acme.dev/oauth/token"],
  ["response", "GCP secret manager path", "secret: projects/acme-prod/secrets/db-password/versions/latest"],
  ["response", "env var name list", "Set OPENAI_API_KEY, ANTHROPIC_API_KEY and GITHUB_TOKEN before running."],
  ["response", "bcrypt hash labelled", "password_hash: $2b$12$KIXQJQvS0v1pZ6yqS0dZJ.0Q3sV2bD0l8hW1zK6m3jY4uX5tR7eCa"],
];
for (const [direction, note, text] of references) neg(direction, `reference: ${note}`, text);

for (let i = 0; i < 8; i++) {
  neg(one(["prompt", "tool_result", "response"] as const), "UUID", one([
    `request id ${uuid()} failed after 3 retries`,
    `trace_id=${uuid()} span_id=${f.hex(16)}`,
    `{"id": "${uuid()}", "status": "queued"}`,
    `Created order ${uuid()} for customer ${uuid()}`,
  ]));
}
for (let i = 0; i < 8; i++) {
  const sha = f.hex(40);
  neg(one(["prompt", "tool_result", "hook"] as const), "git SHA", one([
    `commit ${sha}\nAuthor: Release Bot\n\n    Bump version`,
    `git checkout ${sha}`,
    `Reverts ${sha.slice(0, 12)} and ${sha}`,
    `{"sha": "${sha}", "ref": "refs/heads/main"}`,
  ]));
}
for (let i = 0; i < 8; i++) {
  const digest = f.hex(64);
  neg(one(["prompt", "tool_result", "response"] as const), "sha256 digest", one([
    `checksum: ${digest}`,
    `SHA256 (airlock-1.4.2.tar.gz) = ${digest}`,
    `image: ghcr.io/acme/api@sha256:${digest}`,
    `expected checksum ${digest} but got ${f.hex(64)}`,
  ]));
}
neg("tool_result", "md5 checksum", `Content-MD5 checksum ${f.hex(32)} matches`);
neg("tool_result", "npm lockfile integrity", `"integrity": "sha512-${btoa(f.pick("abcdefghijklmnopqrstuvwxyz0123456789", 64)).slice(0, 86)}=="`);
neg("response", "Azure blob MD5 near the word azure", `Azure reports Content-MD5 ${f.hex(32)} for the uploaded blob.`);
neg("response", "Twilio-shaped AC id without context", `account AC${f.hex(32)} in the audit log`);
neg("response", "Twilio message SID", `Message SM${f.hex(32)} was delivered`);
neg("tool_result", "40-char base64 without AWS context", `etag: ${btoa(f.pick("abcdefghijklmnop", 30))}`);

const words = ["hello world", "the quick brown fox jumps over the lazy dog", "release notes for version two", "meeting moved to thursday afternoon", "please review the attached design document"];
for (const w of words) neg("prompt", "base64 of ordinary words", `decode this: ${btoa(w)}`);
neg("tool_result", "data URI", `<img src="data:image/png;base64,${btoa(f.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 120))}">`);
neg("prompt", "base64 JSON that is not a JWT", `cursor=${btoa(JSON.stringify({ page: 4, sort: "created_at" }))}`);
neg("tool_result", "three base64url segments without alg", `${btoa(JSON.stringify({ typ: "note" })).replace(/=+$/, "")}.${btoa(JSON.stringify({ a: 1, b: "two" })).replace(/=+$/, "")}.${f.pick("abcdefghijklmnopqrstuvwxyz", 20)}`);

const code: [Direction, string, string][] = [
  ["response", "long variable name", "const accessTokenRefreshIntervalMilliseconds = 30000;"],
  ["response", "long config names", "passwordResetTokenExpirationHours: 24\napiKeyRotationPolicy: quarterly"],
  ["response", "token counts", "max_tokens: 4096\ntotal_tokens: 18211"],
  ["response", "token type", "token_type: bearer"],
  ["response", "token endpoint", "token_endpoint: https://login.acme.dev/oauth2/v1/token"],
  ["response", "password policy", "password_min_length = 12\npassword_require_symbols = true"],
  ["response", "auth method", "auth_method: oauth2"],
  ["response", "author field", "author: Release Bot"],
  ["response", "authority URL", "authority: https://login.microsoftonline.com/common"],
  ["response", "tokenizer name", "tokenizer: cl100k_base"],
  ["response", "secret name, not value", "secret_name: prod/db/password"],
  ["response", "header name", "api_key_header = X-Api-Key"],
  ["response", "pagination token", "next_page_token: CiAKGjBpNDd2Nmp4Y2ZhZ2R4OHc4bWUxMXFqNBIC"],
  ["response", "CSS classes", ".btn-secret-token-wrapper { display: none; }\n.auth-token-input:focus { outline: 2px solid #06c; }"],
  ["response", "HTML class attribute", '<input class="password-field auth-token-input" type="password" name="password">'],
  ["response", "minified JS", 'function n(e){var t=e.token,r=e.secret;return t&&r?o(t,r):null}var a={apiKey:i.apiKey,authDomain:i.authDomain};'],
  ["response", "minified bundle identifiers", "var Qe=function(){function e(t){this.accessTokenFactory=t.accessTokenFactory,this.secretProvider=t.secretProvider}return e}();"],
  ["response", "comparison, not assignment", 'if (token == null || password === "") return false;'],
  ["response", "Rust path", "let t = Token::new(kind, span);"],
  ["response", "TypeScript type annotation", "interface Config { apiKey: string; clientSecret?: string }"],
  ["response", "XKCD passphrase example", "password: correct-horse-battery-staple"],
  ["response", "short password", "password: hunter2"],
  ["response", "token expiry", "token_expires_in: 3600"],
  ["response", "credential helper", "credential.helper = osxkeychain"],
  ["response", "kebab-case value", "auth_strategy = client-credentials-flow"],
  ["response", "Stripe publishable key", `const stripe = Stripe("pk_live_${f.randomKey(24)}");`],
  ["response", "PEM public key", `-----BEGIN PUBLIC KEY-----\n${f.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 64)}\n${f.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 64)}\n-----END PUBLIC KEY-----`],
  ["tool_result", "PEM certificate", `-----BEGIN CERTIFICATE-----\n${f.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 64)}\n${f.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 64)}\n-----END CERTIFICATE-----`],
  ["response", "SSH public key", `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${f.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 43)} deploy@ci`],
  ["response", "DB URL without password", "DATABASE_URL=postgresql://app@db.internal:5432/app"],
  ["response", "Redis URL without credentials", "REDIS_URL=redis://cache.acme.dev:6379/0"],
  ["response", "Mongo replica set URL", "mongodb://mongo1.acme.dev:27017,mongo2.acme.dev:27017/app?replicaSet=rs0"],
  ["response", "Postgres host:port only", "postgres://db.internal:5432/app?sslmode=require"],
  ["response", "sk- prefixed CSS var", "--sk-primary-color: #0a84ff; --sk-radius: 4px;"],
  ["response", "repeated prefixes", "sk- sk- sk- ghp_ xoxb- AKIA glpat- SG. npm_ eyJ"],
  ["response", "ISO timestamps and numbers", "token_created_at: 2026-11-25T10:00:00Z\nsecret_version: 42"],
  ["response", "idempotency key", `Idempotency-Key: ${uuid()}`],
  ["response", "random hex without a secret name", `request_signature_nonce ${f.hex(32)}`],
  ["response", "Slack channel and user ids", "channel C0123ABCD45 user U0456DEFG78 team T0789HIJK01"],
  ["response", "Twilio docs phrase", "Twilio API keys start with SK and account SIDs with AC."],
];
for (const [direction, note, text] of code) neg(direction, `code: ${note}`, text);

const prose = [
  "To create an API key, open Settings → API keys and click Create. Keep the secret key safe and never commit it.",
  "GitHub personal access tokens start with ghp_ and fine-grained ones with github_pat_; rotate them every 90 days.",
  "Stripe secret keys start with sk_live_ in live mode and sk_test_ in test mode; publishable keys start with pk_.",
  "Anthropic API keys begin with sk-ant- and are shown only once when you create them.",
  "A JWT is three base64url segments separated by dots: header, payload and signature.",
  "A private key file begins with -----BEGIN OPENSSH PRIVATE KEY----- and must be readable only by you.",
  "Your password must be at least 12 characters and include a number and a symbol.",
  "The access token expires after one hour; use the refresh token to get a new one.",
  "If your AWS access key was exposed, deactivate it in IAM and create a new one immediately.",
  "Slack bot tokens start with xoxb- and user tokens with xoxp-; webhook URLs start with hooks.slack.com/services/.",
  "Store database passwords in a secret manager rather than in the connection string.",
  "OpenAI project keys look like sk-proj- followed by a long random string.",
  "Azure storage connection strings contain an AccountKey; prefer managed identities instead.",
  "npm granular access tokens start with npm_ and can be limited to specific packages.",
  "The token: field in the config accepts either a PAT or a fine-grained token.",
  "Enter password: (input hidden)",
  "Password: [hidden]",
  "The secret: rotate it quarterly, and audit who can read it.",
  "Google API keys start with AIza; restrict them by HTTP referrer or IP.",
  "Twilio auth tokens are 32 hexadecimal characters; keep them server-side.",
  "The secret is to keep trying until the build is green.",
  "The api key is stored in the vault, not in the repository.",
  "The token was revoked yesterday after the incident review.",
  "The password is correct-horse-battery-staple in the comic, which is why nobody should use it.",
  "Access key ID,Secret access key",
];
for (const text of prose) neg(one(["prompt", "response", "tool_description"] as const), "prose about credentials", text);

// ---- write -----------------------------------------------------------------------------------

const out = fileURLToPath(new URL("../../test/fixtures/guardrails/secrets.jsonl", import.meta.url));
writeFileSync(out, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
const positives = samples.filter((s) => s.expect.length > 0).length;
console.log(`${out}: ${positives} positives, ${samples.length - positives} hard negatives`);
