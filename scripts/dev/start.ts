// `npm start`: secrets, dev CA, D1 migrations, then all five Workers in one `wrangler dev`
// over HTTPS, and a seeded org `acme` once the router answers.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DEV_DOMAIN, ensureDevCa, howToTrust } from "./dev-ca.ts";
import { DEV_VARS_SOURCE, ensureDevVars } from "./dev-vars.ts";
import { devRequest } from "./https-client.ts";
import { seedAcme } from "./seed.ts";
import { WORKER_CONFIGS } from "../workers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
// Overridable so a test can run a second copy beside the developer's, on its own data.
const port = Number(process.env.AIRLOCK_PORT ?? 8787);
const stateDir = resolve(root, process.env.AIRLOCK_STATE_DIR ?? ".wrangler/state");

const apiOrigin = `https://api.${DEV_DOMAIN}:${port}`;

// Run wrangler's entry point on this Node: the one on PATH may be too old for wrangler.
const wranglerBin = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin/wrangler.js");
const children = new Set<ChildProcess>();

function wrangler(args: string[], env: NodeJS.ProcessEnv = process.env, stdio: StdioOptions = "inherit"): ChildProcess {
  const child = spawn(process.execPath, [wranglerBin, ...args], { cwd: root, env, stdio });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? (signal ? 128 + constants.signals[signal] : 1);
}

// A terminal's Ctrl-C reaches the whole process group; a test's kill reaches only this
// process: pass it on, then leave when the children have exited.
function stop(signal: NodeJS.Signals): void {
  if (children.size === 0) process.exit(128 + constants.signals[signal]);
  for (const child of children) child.kill(signal);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stop(signal));
const secrets = ensureDevVars(root);
const ca = await ensureDevCa(join(root, ".airlock/dev-ca"));
console.log(howToTrust(ca, `https://acme.${DEV_DOMAIN}:${port}/`));

// Same persist dir as `wrangler dev`, so the schema and data survive restarts. With no
// terminal on stdin (and CI set) wrangler applies without asking for confirmation.
const migrate = wrangler(
  ["d1", "migrations", "apply", "airlock", "--local", "-c", "workers/auth/wrangler.toml", "--persist-to", stateDir],
  { ...process.env, CI: "1" },
  ["ignore", "inherit", "inherit"],
);
const [migrateCode, migrateSignal] = (await once(migrate, "exit")) as [number | null, NodeJS.Signals | null];
if (migrateCode !== 0) process.exit(exitCode(migrateCode, migrateSignal));

const dev = wrangler([
  "dev",
  ...WORKER_CONFIGS.flatMap((config) => ["-c", config]),
  "--local-protocol", "https",
  "--https-key-path", ca.serverKeyPath,
  "--https-cert-path", ca.serverCertPath,
  "--ip", "127.0.0.1",
  "--port", String(port),
  "--persist-to", stateDir,
]);
let seedFailed = false;
dev.on("exit", (code, signal) => process.exit(seedFailed ? 1 : exitCode(code, signal)));

const caPem = readFileSync(ca.caCertPath, "utf8");
await waitUntilHealthy(`${apiOrigin}/healthz`, caPem);
const seeded = await seedAcme({
  apiOrigin,
  orgOrigin: `https://acme.${DEV_DOMAIN}:${port}`,
  ca: caPem,
  caPath: ca.caCertPath,
  operatorToken: secrets.OPERATOR_TOKEN!,
  devVarsPath: join(root, DEV_VARS_SOURCE),
}).catch((error: Error) => {
  console.error(`\n[airlock] ${error.message}`);
  seedFailed = true;
  dev.kill("SIGTERM"); // a dev server without its seed would only mislead
  return undefined;
});
if (seeded !== undefined) {
  console.log(
    `\n[airlock] Ready in ${(performance.now() / 1000).toFixed(1)} s: ` +
      `https://<org>.${DEV_DOMAIN}:${port}, operator API ${apiOrigin}\n${seeded}\n`,
  );
}

/** Polls until the router answers 200, however long wrangler takes (if wrangler exits, so does this script). */
async function waitUntilHealthy(url: string, caPem: string): Promise<void> {
  let last = "no answer";
  let warned = false;
  for (;;) {
    try {
      const res = await devRequest(url, caPem, { timeoutMs: 2_000 });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
    if (!warned && performance.now() > 60_000) {
      console.warn(`[airlock] still waiting for ${url} (last: ${last})`);
      warned = true;
    }
    await sleep(250);
  }
}
