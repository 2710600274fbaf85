import { database, orgScope, schema } from "../../../shared/db/index.ts";
import type { Deployment, Fallback, PriceOverride, ProviderKind } from "../../../shared/db/tables/model-gateway.ts";
import { orgStateOf } from "../../../shared/rpc.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import { credentialPurpose } from "../api/providers.ts";
import type { Env } from "../env.ts";
import { PROVIDERS, type ProviderConfig } from "../providers/index.ts";

export interface ProviderEntry {
  id: string;
  name: string;
  kind: ProviderKind;
  config: ProviderConfig;
  baseUrl: string;
  consumer: boolean;
  timeoutMs: number;
  /** Opened once per registry (isolate cache), on first use; null when none is set. */
  credential(): Promise<string | null>;
}

export interface ModelEntry {
  name: string;
  deployments: Deployment[];
  fallbacks: Fallback[];
  price: PriceOverride | null;
}

/** An org's gateway configuration at one config version. */
export interface Registry {
  orgId: string;
  version: number;
  providersByName: Map<string, ProviderEntry>;
  providersById: Map<string, ProviderEntry>;
  /** By name and by alias. */
  models: Map<string, ModelEntry>;
  catalog: ModelEntry[];
}

async function load(env: Env, orgId: string, version: number): Promise<Registry> {
  const scope = orgScope(database(env.DB), orgId);
  const { llmProviders, llmModels } = schema;
  const [providerRows, modelRows] = await scope.db.batch([
    scope.db.select().from(llmProviders).where(scope.where(llmProviders)),
    scope.db.select().from(llmModels).where(scope.where(llmModels)),
  ]);
  let box: Promise<ReturnType<typeof secretBox>> | undefined;
  const providers = providerRows.map((row): ProviderEntry => {
    let opened: Promise<string | null> | undefined;
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      config: PROVIDERS[row.kind],
      baseUrl: row.baseUrl,
      consumer: row.consumer,
      timeoutMs: row.timeoutMs,
      credential: () => {
        if (row.sealedCredential === null) return Promise.resolve(null);
        box ??= masterKey(env.MASTER_KEY).then((key) => secretBox(scope.db, key, orgId));
        opened ??= box.then((b) => b.open(row.sealedCredential!, credentialPurpose(row.id)));
        return opened;
      },
    };
  });
  const catalog = modelRows.map((row): ModelEntry => ({ name: row.name, deployments: row.deployments, fallbacks: row.fallbacks, price: row.price ?? null }));
  const models = new Map<string, ModelEntry>();
  modelRows.forEach((row, i) => [row.name, ...row.aliases].forEach((name) => models.set(name, catalog[i]!)));
  return {
    orgId,
    version,
    providersByName: new Map(providers.map((p) => [p.name, p])),
    providersById: new Map(providers.map((p) => [p.id, p])),
    models,
    catalog,
  };
}

/**
 * Per isolate: org slug → its registry at the config version last seen. The hot path reads
 * it without touching D1; admission returns the org's current version, and a newer one
 * makes the caller reload (`registryAt`).
 */
const cache = new Map<string, Promise<Registry>>();

/** The cached registry of an org host, loading it (org, version, rows) on a miss; null for an unknown org. */
export async function cachedRegistry(env: Env, slug: string): Promise<Registry | null> {
  const hit = cache.get(slug);
  if (hit) return hit;
  const org = await env.AUTH.resolveOrg(slug);
  if (!org) return null;
  const version = await orgStateOf(env.ORG_STATE, org.id).configVersion();
  return registryAt(env, slug, org.id, version);
}

/** The registry at exactly `version` (admit told us it is current). */
export function registryAt(env: Env, slug: string, orgId: string, version: number): Promise<Registry> {
  const pending = load(env, orgId, version);
  pending.catch(() => cache.delete(slug));
  cache.set(slug, pending);
  return pending;
}
