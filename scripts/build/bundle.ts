// Bundles Workers exactly as `wrangler deploy` would, without uploading anything:
// `wrangler deploy --dry-run --outdir dist/<worker-name> -c <config>`. Offline: wrangler
// bundles with esbuild locally and exits before any API call. Used by `npm run
// build:check` (size budget) and by `npm run bench` (the benchmark runs these bundles).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { unstable_readConfig } from "wrangler";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DIST = join(ROOT, "dist");

import { WORKER_CONFIGS } from "../workers.ts";

export { WORKER_CONFIGS };

/** Cloudflare's limit for a Worker after compression on the Free plan (Paid: 10 MiB). */
export const GZIP_BUDGET_BYTES = 3 * 1024 * 1024;

export interface BundledModule {
  /** Path relative to the bundle's outdir (the module name workerd sees). */
  name: string;
  path: string;
  bytes: number;
}

export interface Bundle {
  worker: string;
  configPath: string;
  outdir: string;
  /** Entry module (absolute path). */
  main: string;
  modules: BundledModule[];
  /** Sum of every uploaded module (source maps and the README excluded). */
  rawBytes: number;
  /** gzip of the modules concatenated, as wrangler computes "Total Upload … gzip". */
  gzipBytes: number;
  /** wrangler's own "Total Upload" line, for cross-checking. */
  wranglerReport: string | null;
}

// Run wrangler's entry point on this Node (the one on PATH may be too old for wrangler).
export const wranglerBin = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin/wrangler.js");

/**
 * The part of wrangler's normalised config these scripts read. (wrangler's declared type
 * comes from @cloudflare/workers-utils, which is bundled into wrangler, not installed.)
 */
export interface WranglerConfig {
  name?: string;
  main?: string;
  configPath?: string;
  d1_databases: { binding: string; database_name?: string; database_id?: string; migrations_dir?: string }[];
  queues: { producers?: { binding: string; queue: string }[]; consumers?: { queue: string; dead_letter_queue?: string }[] };
}

/** Reads a wrangler config as wrangler does (path relative to the repo root, or absolute). */
export function readWranglerConfig(configPath: string): WranglerConfig {
  return unstable_readConfig({ config: resolve(ROOT, configPath) }) as unknown as WranglerConfig;
}

/** The Worker's `name` as wrangler reads it from the config. */
export function workerName(configPath: string): string {
  const { name } = readWranglerConfig(configPath);
  if (!name) throw new Error(`${configPath}: no \`name\``);
  return name;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs wrangler with the given args from the repo root; never throws on a non-zero exit. */
export function runWrangler(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...args], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code: code ?? (signal ? 1 : 0), stdout, stderr }));
  });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

/** Bundles one Worker into dist/<worker-name>/ and measures what would be uploaded. */
export async function bundleWorker(configPath: string, options: { distDir?: string } = {}): Promise<Bundle> {
  const worker = workerName(configPath);
  const outdir = join(options.distDir ?? DIST, worker);
  rmSync(outdir, { recursive: true, force: true }); // no stale modules from an older build
  // --outdir absolute: wrangler resolves a relative one against the config file's folder.
  const result = await runWrangler(["deploy", "--dry-run", "--outdir", outdir, "-c", configPath]);
  if (result.code !== 0) {
    const output = (result.stderr || result.stdout).replace(/\x1b\[[0-9;]*m/g, "").trim();
    throw new Error(`${worker}: wrangler deploy --dry-run -c ${configPath} failed (exit ${result.code}):\n${output}`);
  }
  const modules = listFiles(outdir)
    .filter((path) => !path.endsWith(".map") && relative(outdir, path) !== "README.md")
    .map((path) => ({ name: relative(outdir, path), path, bytes: statSync(path).size }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const main = modules.find((m) => m.name === "index.js") ?? modules.find((m) => /\.m?js$/.test(m.name));
  if (!main) throw new Error(`${configPath}: no JavaScript module in ${outdir}`);
  const contents = modules.map((m) => readFileSync(m.path));
  return {
    worker,
    configPath,
    outdir,
    main: main.path,
    modules,
    rawBytes: contents.reduce((sum, c) => sum + c.byteLength, 0),
    gzipBytes: gzipSync(Buffer.concat(contents)).byteLength,
    wranglerReport: /Total Upload: (.*)/.exec(result.stdout)?.[1]?.trim() ?? null,
  };
}

/** Bundles every Worker (in parallel: each is its own wrangler/esbuild process). */
export function bundleAll(options: { distDir?: string } = {}): Promise<Bundle[]> {
  return Promise.all(WORKER_CONFIGS.map((configPath) => bundleWorker(configPath, options)));
}

export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
