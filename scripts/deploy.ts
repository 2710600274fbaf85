// `npm run deploy` — Airlock to Cloudflare. `npm run deploy -- --dry-run` prints the commands
// it would run (and checks the Worker uploads offline with wrangler's own --dry-run).
//
//   AIRLOCK_DOMAIN         required: orgs answer at <org>.<domain>, the operator at api.<domain>;
//                          the domain must be (under) a zone on the account
//   CLOUDFLARE_API_TOKEN   required (not for --dry-run): Workers Scripts, Workers Routes (zone),
//                          Workers KV Storage, D1 and Queues edit permissions
//   CLOUDFLARE_ACCOUNT_ID  optional; needed when the token can see more than one account
//   OPERATOR_TOKEN         optional: uploaded as airlock-auth's secret with its deploy; without
//                          it airlock-auth keeps the secret it has (a first deploy needs one)
//   MASTER_KEY             optional: 32 bytes, base64 (`openssl rand -base64 32`); wraps every org's
//                          data key. Uploaded to each Worker that seals or opens secrets (auth,
//                          guardrail, mcp-proxy, router); without it they keep the one they have.
//                          Keep it safe: losing it loses every stored provider and upstream secret.
//
// Order: queues (a producer or consumer cannot be deployed before its queue exists) → the KV
// namespaces (airlock-auth's OAUTH_KV, titled <worker>-<binding>) → the D1 database → its migrations (new code never meets an old schema; migrations are additive) →
// the four internal Workers → the router, last, with the wildcard route *.<domain>/*, so the
// public entry only goes live once everything it binds to is there.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DIST, ROOT, WORKER_CONFIGS, readWranglerConfig, runWrangler, wranglerBin, type WranglerConfig } from "./build/bundle.ts";

const { values: args } = parseArgs({ options: { "dry-run": { type: "boolean", default: false }, help: { type: "boolean", short: "h" } } });
const DRY_RUN = args["dry-run"];
if (args.help) {
  console.log(readFileSync(new URL(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3)).join("\n"));
  process.exit(0);
}

function fail(message: string): never {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

// ---- preflight: fail fast, before anything is created ----------------------------------
const rawDomain = process.env["AIRLOCK_DOMAIN"]?.trim().toLowerCase().replace(/\.$/, "");
if (!rawDomain) {
  fail(
    "AIRLOCK_DOMAIN is not set. It is the domain orgs answer under, e.g.\n" +
      "  AIRLOCK_DOMAIN=airlock.example.com npm run deploy\n" +
      "gives https://acme.airlock.example.com (org acme) and https://api.airlock.example.com (operator API).",
  );
}
if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(rawDomain)) {
  fail(`AIRLOCK_DOMAIN=${JSON.stringify(process.env["AIRLOCK_DOMAIN"])} is not a hostname like airlock.example.com (no scheme, port, path or wildcard).`);
}
const DOMAIN = rawDomain;
const hasToken = Boolean(process.env["CLOUDFLARE_API_TOKEN"]?.trim());
if (!hasToken && !DRY_RUN) {
  fail(
    "CLOUDFLARE_API_TOKEN is not set. Create an API token with Workers Scripts, Workers Routes, Workers KV Storage,\n" +
      "D1 and Queues edit permissions (dash.cloudflare.com/profile/api-tokens), then:\n" +
      "  CLOUDFLARE_API_TOKEN=… CLOUDFLARE_ACCOUNT_ID=… AIRLOCK_DOMAIN=… npm run deploy",
  );
}
/** The secrets a deploy can upload, and which Workers read each (their env.ts declares it). */
const SECRET_READERS: Record<string, string[]> = {
  OPERATOR_TOKEN: ["airlock-auth"],
  MASTER_KEY: ["airlock-auth", "airlock-guardrail", "airlock-mcp-proxy", "airlock-router"],
};
const secrets = Object.fromEntries(
  Object.keys(SECRET_READERS).flatMap((name) => {
    const value = process.env[name]?.trim();
    return value ? [[name, value]] : [];
  }),
);
if (secrets["MASTER_KEY"] && Buffer.from(secrets["MASTER_KEY"], "base64").length !== 32) {
  fail("MASTER_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)");
}
/** What one Worker's deploy uploads: the given secrets it reads. */
const secretsOf = (worker: string) => Object.fromEntries(Object.entries(secrets).filter(([name]) => SECRET_READERS[name]!.includes(worker)));

// ---- what the configs say ----------------------------------------------------------------
/** bundle.ts's config type, plus the KV namespaces (wrangler's own Config has them). */
type DeployableConfig = WranglerConfig & { kv_namespaces: { binding: string; id?: string }[] };
const readConfig = (configPath: string) => readWranglerConfig(configPath) as DeployableConfig;
const workers = WORKER_CONFIGS.map((configPath) => ({ configPath, config: readConfig(configPath) }));
const [router, ...internal] = workers;
if (!router || router.configPath !== "wrangler.toml") fail("the router's wrangler.toml must come first in WORKER_CONFIGS");
const queues = [
  ...new Set(
    workers.flatMap(({ config }) => [
      ...(config.queues.producers ?? []).map((p) => p.queue),
      ...(config.queues.consumers ?? []).flatMap((c) => [c.queue, ...(c.dead_letter_queue ? [c.dead_letter_queue] : [])]),
    ]),
  ),
];
/** One namespace per Worker and binding, titled `<worker>-<binding>` (wrangler 3's own naming). */
const kvTitle = (worker: string, binding: string) => `${worker}-${binding}`;
const kvNamespaces = workers.flatMap(({ config }) => config.kv_namespaces.map((kv) => ({ worker: config.name!, binding: kv.binding, title: kvTitle(config.name!, kv.binding), localId: kv.id })));
const d1Names = [...new Set(workers.flatMap(({ config }) => config.d1_databases.map((db) => db.database_name).filter((n): n is string => !!n)))];
const migrationsOwner = workers.find(({ config }) => config.d1_databases.some((db) => db.migrations_dir));
const route = `*.${DOMAIN}/*`;

// ---- running wrangler ------------------------------------------------------------------------
const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
const show = (argv: string[]) => `$ npx wrangler ${argv.map(quote).join(" ")}`;

/** Runs wrangler with its output on this terminal; resolves to the exit code. */
function stream(argv: string[]): Promise<number> {
  console.log(show(argv));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...argv], {
      cwd: ROOT,
      env: { ...process.env, CI: "1" }, // non-interactive: no prompts (migrations apply without asking)
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise(code ?? 1));
  });
}
async function must(argv: string[], what: string) {
  const code = await stream(argv);
  if (code !== 0) fail(`${what} failed (wrangler exit ${code}); nothing after it was run. Fix and re-run: every step is safe to repeat.`);
}

// ---- deploy configs: the wrangler.toml files with the account's D1 and KV ids ----------------
// The configs carry a local-only database_id (shared by auth and metrics so `wrangler dev`
// gives them one local database) and placeholder KV namespace ids. A deploy needs the
// account's ids: they are written into a copy under dist/deploy/, with `main` and `migrations_dir` made absolute (wrangler resolves
// them against the config's folder). The copies are what wrangler deploys and migrates with.
const DEPLOY_DIR = join(DIST, "deploy");
const RELOCATED = new Set(["main", "migrations_dir"]);
const PATH_LIKE = /(^main$|dir$|_dir$|path|tsconfig|directory|^cwd$|file$)/;

function deployConfig(configPath: string, worker: string, d1Ids: Map<string, string>, kvIds: Map<string, string>): string {
  const source = resolve(ROOT, configPath);
  const lines = readFileSync(source, "utf8").split("\n");
  let table = "";
  let block: { name?: string; idLine?: number; headerLine: number } | undefined;
  const blocks: NonNullable<typeof block>[] = [];
  let kvBlock: { binding?: string; idLine?: number; headerLine: number } | undefined;
  const kvBlocks: NonNullable<typeof kvBlock>[] = [];
  lines.forEach((line, i) => {
    const header = /^\s*(\[\[?)\s*([\w.-]+)\s*\]\]?/.exec(line);
    if (header) {
      table = header[2]!;
      block = table === "d1_databases" ? { headerLine: i } : undefined;
      if (block) blocks.push(block);
      kvBlock = table === "kv_namespaces" ? { headerLine: i } : undefined;
      if (kvBlock) kvBlocks.push(kvBlock);
      return;
    }
    const kv = /^(\s*)([\w-]+)\s*=\s*"([^"]*)"(.*)$/.exec(line);
    if (!kv) return;
    const [, indent, key, value, rest] = kv as unknown as [string, string, string, string, string];
    if (table === "env" || table.startsWith("env.")) fail(`${configPath}: [${table}] is not supported by deploy.ts (environments); extend deployConfig()`);
    if (RELOCATED.has(key)) lines[i] = `${indent}${key} = ${JSON.stringify(resolve(dirname(source), value))}${rest}`;
    else if (PATH_LIKE.test(key) || value.startsWith("./") || value.startsWith("../")) {
      fail(`${configPath}: \`${key} = "${value}"\` looks like a path relative to the config; deploy.ts only relocates main and migrations_dir — extend deployConfig()`);
    }
    if (block && key === "database_name") block.name = value;
    if (block && key === "database_id") block.idLine = i;
    if (kvBlock && key === "binding") kvBlock.binding = value;
    if (kvBlock && key === "id") kvBlock.idLine = i;
    if (kvBlock && key === "preview_id") fail(`${configPath}: [[kv_namespaces]] preview_id is not supported by deploy.ts; extend deployConfig()`);
  });
  // KV ids replace their line in place (before the D1 loop, which may insert a line).
  for (const b of kvBlocks) {
    const id = b.binding ? kvIds.get(kvTitle(worker, b.binding)) : undefined;
    if (!id) fail(`${configPath}: no KV namespace id resolved for binding ${b.binding ?? "(unnamed)"}`);
    const line = `id = ${JSON.stringify(id)}`;
    if (b.idLine !== undefined) lines[b.idLine] = line;
    else fail(`${configPath}: [[kv_namespaces]] ${b.binding} has no \`id\` line to replace`);
  }
  for (const b of blocks) {
    const id = b.name ? d1Ids.get(b.name) : undefined;
    if (!id) fail(`${configPath}: no D1 id resolved for database ${b.name ?? "(unnamed)"}`);
    const line = `database_id = ${JSON.stringify(id)}`;
    if (b.idLine !== undefined) lines[b.idLine] = line;
    else lines.splice(b.headerLine + 1, 0, line);
  }
  mkdirSync(DEPLOY_DIR, { recursive: true });
  const target = join(DEPLOY_DIR, `${worker}.wrangler.toml`);
  writeFileSync(target, `# Generated by scripts/deploy.ts from ${configPath}; do not edit.\n${lines.join("\n")}`);

  // The copy must read as the original does, bar the D1 and KV ids.
  const original = readConfig(source);
  const copy = readConfig(target);
  const mainOf = (c: WranglerConfig) => (c.main ? resolve(dirname(c.configPath ?? ""), c.main) : undefined);
  const migrationsOf = (c: WranglerConfig) => c.d1_databases.map((d) => (d.migrations_dir ? resolve(dirname(c.configPath ?? ""), d.migrations_dir) : null));
  if (
    copy.name !== original.name ||
    mainOf(copy) !== mainOf(original) ||
    JSON.stringify(migrationsOf(copy)) !== JSON.stringify(migrationsOf(original)) ||
    copy.d1_databases.some((d) => d.database_id !== d1Ids.get(d.database_name ?? "")) ||
    JSON.stringify(copy.kv_namespaces.map((k) => k.binding)) !== JSON.stringify(original.kv_namespaces.map((k) => k.binding)) ||
    copy.kv_namespaces.some((k) => k.id !== kvIds.get(kvTitle(worker, k.binding)))
  ) {
    fail(`${relative(ROOT, target)} does not read like ${configPath}; not deploying from it`);
  }
  return relative(ROOT, target);
}

// ---- the steps ---------------------------------------------------------------------------------
console.log(`Airlock → Cloudflare: orgs at https://<org>.${DOMAIN}, operator API at https://api.${DOMAIN}`);
if (DRY_RUN) {
  console.log("DRY RUN: nothing is created or uploaded. These are the commands `npm run deploy` runs, in order.");
  if (!hasToken) console.log("(CLOUDFLARE_API_TOKEN is not set: a real deploy would stop here.)");
}

console.log(`\n1. Queues: ${queues.join(", ")} (before the Workers that produce to and consume from them)`);
for (const queue of queues) {
  if (DRY_RUN) {
    console.log(`${show(["queues", "create", queue])}    # if it fails: ${show(["queues", "info", queue]).slice(2)} — an existing queue is fine`);
    continue;
  }
  const created = await runWrangler(["queues", "create", queue]);
  console.log(show(["queues", "create", queue]));
  if (created.code === 0) {
    console.log(`   created ${queue}`);
    continue;
  }
  // Tolerate "already exists" whatever its wording: the queue is there if `info` finds it.
  const info = await runWrangler(["queues", "info", queue]);
  if (info.code !== 0) fail(`creating queue ${queue} failed:\n${created.stderr || created.stdout}`);
  console.log(`   ${queue} already exists`);
}

console.log(`\n2. KV namespaces: ${kvNamespaces.map((k) => `${k.title} (${k.worker}'s ${k.binding})`).join(", ") || "none"} (created if missing; the configs' ids are placeholders)`);
const kvIds = new Map<string, string>();
const listKv = async () => {
  const listed = await runWrangler(["kv", "namespace", "list"]);
  if (listed.code !== 0) fail(`wrangler kv namespace list failed:\n${listed.stderr || listed.stdout}`);
  const start = listed.stdout.indexOf("[");
  if (start < 0) fail(`wrangler kv namespace list printed no JSON list:\n${listed.stdout}`);
  return JSON.parse(listed.stdout.slice(start)) as { id: string; title: string }[];
};
if (DRY_RUN) {
  if (kvNamespaces.length) console.log(`${show(["kv", "namespace", "list"])}    # → the id of each namespace by title`);
  for (const kv of kvNamespaces) {
    console.log(`${show(["kv", "namespace", "create", kv.title, "--update-config=false"])}    # only if it is not listed (an existing one is fine)`);
    // Offline: keep the configured placeholder so the copies can still be checked below.
    if (kv.localId) kvIds.set(kv.title, kv.localId);
  }
} else if (kvNamespaces.length) {
  let existing = await listKv();
  for (const kv of kvNamespaces) {
    if (!existing.some((n) => n.title === kv.title)) {
      const created = await runWrangler(["kv", "namespace", "create", kv.title, "--update-config=false"]);
      console.log(show(["kv", "namespace", "create", kv.title, "--update-config=false"]));
      existing = await listKv();
      // Tolerate a concurrent create ("already exists"): the namespace is there if the list has it.
      if (created.code !== 0 && !existing.some((n) => n.title === kv.title)) fail(`creating KV namespace ${kv.title} failed:\n${created.stderr || created.stdout}`);
    }
    const found = existing.filter((n) => n.title === kv.title);
    if (found.length !== 1) fail(`KV namespace ${kv.title}: ${found.length} namespaces have that title after creating it; expected one`);
    kvIds.set(kv.title, found[0]!.id);
    console.log(`   ${kv.title} = ${found[0]!.id}`);
  }
}

console.log(`\n3. D1: ${d1Names.join(", ")} (created if missing; the configs' database_id is local-only)`);
const d1Ids = new Map<string, string>();
const listD1 = async () => {
  const listed = await runWrangler(["d1", "list", "--json"]);
  if (listed.code !== 0) fail(`wrangler d1 list failed:\n${listed.stderr || listed.stdout}`);
  const start = listed.stdout.indexOf("[");
  return JSON.parse(listed.stdout.slice(start)) as { uuid: string; name: string }[];
};
if (DRY_RUN) {
  console.log(`${show(["d1", "list", "--json"])}    # → the id of each database by name`);
  for (const name of d1Names) console.log(`${show(["d1", "create", name, "--update-config=false"])}    # only if it is not listed`);
  // Offline: keep the configured ids so the copies can still be checked below.
  for (const { config } of workers) for (const db of config.d1_databases) if (db.database_name && db.database_id) d1Ids.set(db.database_name, db.database_id);
} else {
  let existing = await listD1();
  for (const name of d1Names) {
    if (!existing.some((db) => db.name === name)) {
      await must(["d1", "create", name, "--update-config=false"], `creating D1 database ${name}`);
      existing = await listD1();
    }
    const db = existing.find((d) => d.name === name);
    if (!db) fail(`D1 database ${name} is not listed after creating it`);
    d1Ids.set(name, db.uuid);
    console.log(`   ${name} = ${db.uuid}`);
  }
}
const configFor = new Map<string, string>();
for (const { configPath, config } of workers) {
  const needsIds = config.d1_databases.length > 0 || config.kv_namespaces.length > 0;
  configFor.set(config.name!, needsIds ? deployConfig(configPath, config.name!, d1Ids, kvIds) : configPath);
}
const generated = [...configFor.entries()].filter(([, path]) => path.startsWith("dist/"));
console.log(`   deploy configs with ${DRY_RUN ? "the account's D1 and KV ids (resolved at deploy time)" : "those ids"}: ${generated.map(([, p]) => p).join(", ")}`);

if (migrationsOwner) {
  const dbName = migrationsOwner.config.d1_databases.find((db) => db.migrations_dir)!.database_name!;
  console.log(`\n4. Migrations of ${dbName} (remote)`);
  const argv = ["d1", "migrations", "apply", dbName, "--remote", "-c", configFor.get(migrationsOwner.config.name!)!];
  if (DRY_RUN) console.log(show(argv));
  else await must(argv, "applying D1 migrations");
}

let secretsDir: string | undefined;
/** `--secrets-file` for a Worker's deploy when it has secrets to upload (a 0600 file, removed after). */
function withSecrets(worker: string, argv: string[]): string[] {
  const own = secretsOf(worker);
  if (Object.keys(own).length === 0) return argv;
  if (DRY_RUN) return [...argv, "--secrets-file", `<temporary JSON holding ${Object.keys(own).join(", ")}>`];
  secretsDir ??= mkdtempSync(join(tmpdir(), "airlock-deploy-"));
  const file = join(secretsDir, `${worker}.json`);
  writeFileSync(file, JSON.stringify(own), { mode: 0o600 });
  return [...argv, "--secrets-file", file];
}
const deploys: { worker: string; argv: string[] }[] = [];
for (const { config } of internal) deploys.push({ worker: config.name!, argv: withSecrets(config.name!, ["deploy", "-c", configFor.get(config.name!)!]) });
deploys.push({
  worker: router.config.name!,
  argv: withSecrets(router.config.name!, ["deploy", "-c", configFor.get(router.config.name!)!, "--route", route, "--var", `BASE_DOMAIN:${DOMAIN}`]),
});

try {
  console.log(`\n5. Internal Workers (${internal.map((w) => w.config.name).join(", ")}), then 6. the router on ${route}`);
  for (const [name, readers] of Object.entries(SECRET_READERS)) {
    if (secrets[name]) continue;
    console.log(`   (${name} not set: ${readers.join(", ")} will keep the value already set. First deploy? Set ${name} for this run, or \`npx wrangler secret put ${name} --name <worker>\` for each.)`);
  }
  for (const { worker, argv } of deploys) {
    if (DRY_RUN) console.log(show(argv));
    else await must(argv, `deploying ${worker}`);
  }
} finally {
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
}

if (DRY_RUN) {
  // What can be checked without an account: wrangler bundles each upload with exactly these
  // arguments (config copies, --route, --var) and stops before the API.
  console.log("\nChecking the uploads offline (wrangler deploy --dry-run with the same arguments):");
  const checks = await Promise.all(
    deploys.map(async ({ worker, argv }) => {
      const dryArgv = argv.filter((a, i) => a !== "--secrets-file" && argv[i - 1] !== "--secrets-file");
      const result = await runWrangler([...dryArgv, "--dry-run", "--outdir", join(DEPLOY_DIR, "check", worker)]);
      const size = /Total Upload: (.*)/.exec(result.stdout)?.[1]?.trim();
      return { worker, ok: result.code === 0, detail: result.code === 0 ? size ?? "" : (result.stderr || result.stdout).trim().split("\n").slice(-5).join("\n     ") };
    }),
  );
  for (const c of checks) console.log(`   ${c.ok ? "ok  " : "FAIL"} ${c.worker}: ${c.detail}`);
  if (checks.some((c) => !c.ok)) process.exit(1);
}

console.log(`
${DRY_RUN ? "After a real deploy" : "Deployed"}. Outside what wrangler does:
 - DNS: a proxied record must cover *.${DOMAIN} (e.g. AAAA * → 100::, proxied) or the route never sees traffic.
 - TLS: Universal SSL covers one label under the zone apex; if ${DOMAIN} is itself a subdomain of the zone,
   *.${DOMAIN} needs an Advanced Certificate (or Total TLS).
 - Check: curl https://api.${DOMAIN}/healthz`);
