// Airlock's five Workers in one Miniflare, wired as their wrangler configs say, running the
// bundles `wrangler deploy --dry-run` produced: no `wrangler dev`, no test harness, so no
// dev proxy in front of workerd (that proxy alone costs 6–8 ms a request).
//
// Route chosen, and why: wrangler's `unstable_getMiniflareWorkerOptions(configPath)` turns
// each config into (v4-shaped) Miniflare worker options, and the benchmark hands them to the
// `Miniflare` class of the miniflare copy wrangler itself depends on, through that copy's
// `convertV4MiniflareOptions` (exactly what wrangler does internally). So:
//  - every binding in a config (service bindings with named entrypoints, the shared D1
//    database, the SQLite-backed OrgState Durable Object, the queue producer, the queue
//    consumer with its DLQ, vars) reaches the benchmark without being restated here, and a
//    binding added to a config later is benchmarked without editing this file;
//  - the runtime is the very workerd `wrangler dev` and `npm start` run (wrangler 4.164
//    pins miniflare 5.20261117.0-beta / workerd 1.20261117.1); the top-level `miniflare`
//    in node_modules is an older beta pulled in by the vitest plugin, and npm's `miniflare`
//    latest (4.x) cannot run the 2026-11-01 compatibility date.
// Building the options by hand would restate every binding, and drift from the configs.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, relative, resolve } from "node:path";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { ROOT, readWranglerConfig, type Bundle } from "../build/bundle.ts";

type MiniflareModule = typeof import("miniflare");
export type Miniflare = InstanceType<MiniflareModule["Miniflare"]>;
type V4Options = Parameters<MiniflareModule["convertV4MiniflareOptions"]>[0];
export type V4WorkerOptions = NonNullable<Extract<V4Options, { workers: unknown }>["workers"]>[number];

/** The miniflare major this file's option shapes were written against. */
const MINIFLARE_MAJOR = "5.";

/** miniflare as wrangler resolves it (its own dependency), not whatever is at the top level. */
export function wranglersMiniflare(): { miniflare: MiniflareModule; version: string; wrangler: string; workerd: string } {
  const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
  const fromWrangler = createRequire(wranglerPackage);
  const wrangler = JSON.parse(readFileSync(wranglerPackage, "utf8")) as { version: string; dependencies: Record<string, string> };
  const version = (fromWrangler("miniflare/package.json") as { version: string }).version;
  const workerd = (createRequire(fromWrangler.resolve("miniflare/package.json"))("workerd/package.json") as { version: string }).version;
  if (version !== wrangler.dependencies["miniflare"]) {
    throw new Error(`wrangler ${wrangler.version} wants miniflare ${wrangler.dependencies["miniflare"]} but resolves ${version}`);
  }
  if (!version.startsWith(MINIFLARE_MAJOR)) {
    throw new Error(`the benchmark is written for miniflare ${MINIFLARE_MAJOR}x (wrangler's); wrangler ${wrangler.version} brings ${version}`);
  }
  return { miniflare: fromWrangler("miniflare") as MiniflareModule, version, wrangler: wrangler.version, workerd };
}

const MODULE_TYPES: Record<string, "ESModule" | "CompiledWasm" | "Data" | "Text"> = {
  ".js": "ESModule", ".mjs": "ESModule", ".wasm": "CompiledWasm", ".bin": "Data", ".txt": "Text", ".html": "Text", ".sql": "Text",
};

/** A bundle's modules for Miniflare, entry first (workerd takes the first as main). */
function bundleModules(bundle: Bundle) {
  const ordered = [bundle.modules.find((m) => m.path === bundle.main)!, ...bundle.modules.filter((m) => m.path !== bundle.main)];
  return ordered.map((m) => {
    const type = MODULE_TYPES[extname(m.name)];
    if (!type) throw new Error(`${bundle.worker}: no module type for ${m.name}`);
    return { type, path: m.path, contents: readFileSync(m.path) };
  });
}

export interface MeshOptions {
  /** Replaces or adds vars/secrets per Worker name (e.g. OPERATOR_TOKEN for airlock-auth). */
  bindings?: Record<string, Record<string, string>>;
  /** Routes per Worker name (Miniflare routes requests by these, like zone routes). */
  routes?: Record<string, string[]>;
}

/** v4 worker options for each bundled Worker, from its config, running its dry-run bundle. */
export function airlockWorkers(bundles: Bundle[], options: MeshOptions = {}): V4WorkerOptions[] {
  return bundles.map((bundle) => {
    // modulesRules/rootPath only matter when Miniflare locates modules itself; we list them.
    const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(ROOT, bundle.configPath));
    const { modulesRules: _rules, rootPath: _root, ...config } = workerOptions as typeof workerOptions & { rootPath?: string };
    return {
      ...config,
      name: bundle.worker,
      modules: bundleModules(bundle),
      modulesRoot: bundle.outdir,
      bindings: { ...(config.bindings as Record<string, unknown> | undefined), ...options.bindings?.[bundle.worker] },
      ...(options.routes?.[bundle.worker] ? { routes: options.routes[bundle.worker] } : {}),
    } as V4WorkerOptions;
  });
}

/**
 * Applies the D1 migrations of the Worker whose config names them, in file order, each file
 * as one batch, split into statements the way `wrangler d1 migrations apply` splits them.
 */
export async function applyMigrations(mf: Miniflare, configPath: string, binding = "DB"): Promise<string[]> {
  const config = readWranglerConfig(configPath);
  const d1 = config.d1_databases.find((db) => db.binding === binding);
  if (!d1?.migrations_dir) throw new Error(`${configPath}: no migrations_dir for D1 binding ${binding}`);
  const dir = resolve(ROOT, dirname(configPath), d1.migrations_dir);
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
  const db = await mf.getD1Database(binding, config.name);
  for (const file of files) {
    const statements = unstable_splitSqlQuery(readFileSync(resolve(dir, file), "utf8")).filter((s) => s.trim());
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }
  return files.map((f) => relative(ROOT, resolve(dir, f)));
}

/**
 * How a benchmark seeds its org through the mesh: requests by host, JSON bodies with a bearer
 * token, and answers that must have the expected status (anything else stops the run).
 */
export function seeder(mf: Miniflare) {
  const dispatch = (host: string, path: string, init: RequestInit = {}) => mf.dispatchFetch(`https://${host}${path}`, init as never) as unknown as Promise<Response>;
  const post = (token: string, body: unknown, method = "POST"): RequestInit => ({ method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const expectStatus = async (response: Response, status: number, what: string) => {
    const text = await response.text();
    if (response.status !== status) throw new Error(`seeding: ${what} answered ${response.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as Record<string, any>;
  };
  return { dispatch, post, expectStatus };
}
