import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { orgs } from "../schema.ts";

/** Model gateway (issue 6): an org's providers and model catalog. Times are epoch ms, ids ULIDs. */

export const PROVIDER_KINDS = ["openai", "anthropic", "gemini", "azure_openai", "openai_compatible"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** A model provider an org reaches at `/llm/<name>/…`; its credential is sealed (secret-box), never returned. */
export const llmProviders = sqliteTable(
  "llm_providers",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    kind: text("kind", { enum: PROVIDER_KINDS }).notNull(),
    baseUrl: text("base_url").notNull(),
    /** A consumer service (e.g. personal ChatGPT): policies can forbid it. */
    consumer: integer("consumer", { mode: "boolean" }).notNull(),
    /** Per attempt, until response headers arrive. */
    timeoutMs: integer("timeout_ms").notNull(),
    sealedCredential: text("sealed_credential"),
    credentialHint: text("credential_hint"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("llm_providers_org_name").on(t.orgId, t.name)],
);

export interface Deployment {
  provider_id: string;
  /** The model name the provider knows. */
  model: string;
  weight: number;
}
export interface Fallback {
  provider_id: string;
  model: string;
}
/** USD per million tokens (= micro-dollars per token). */
export interface PriceOverride {
  input: number;
  output: number;
  cached_input?: number;
}

/**
 * A catalog entry: the model id callers send (and its aliases), the weighted deployments
 * that serve it and the ordered fallbacks tried when they fail before the first byte.
 */
export const llmModels = sqliteTable(
  "llm_models",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    aliases: text("aliases", { mode: "json" }).$type<string[]>().notNull(),
    deployments: text("deployments", { mode: "json" }).$type<Deployment[]>().notNull(),
    fallbacks: text("fallbacks", { mode: "json" }).$type<Fallback[]>().notNull(),
    price: text("price", { mode: "json" }).$type<PriceOverride | null>(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("llm_models_org_name").on(t.orgId, t.name), index("llm_models_org").on(t.orgId, t.id)],
);
