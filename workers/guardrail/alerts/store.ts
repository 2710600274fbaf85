import { eq } from "drizzle-orm";
import { z } from "zod";
import type { DestinationKind } from "../../../shared/api/alert-destinations.ts";
import { database, orgScope, schema, type Db } from "../../../shared/db/index.ts";
import { masterKey, secretBox, type SecretBox } from "../../../shared/secret-box.ts";
import { assertPublicUrl } from "../../../shared/ssrf.ts";
import type { Env } from "../env.ts";
import { DESTINATIONS } from "./destinations/index.ts";
import type { DestinationConfig } from "./destinations/types.ts";

const { alertDestinations, orgs } = schema;
export type DestinationRow = typeof alertDestinations.$inferSelect;

/** The `settings` column: the kind's own settings plus what every destination has. */
export const StoredSettings = z.object({
  settings: z.record(z.string(), z.unknown()),
  rate_limit_per_minute: z.number().int().positive(),
  /** Last characters of each secret field, kept in clear so listing never opens a secret. */
  secret_hint: z.record(z.string(), z.string()),
});
export type StoredSettings = z.infer<typeof StoredSettings>;

export const purposeOf = (id: string) => `alert-destination:${id}`;

export const boxFor = async (env: Env, db: Db, orgId: string): Promise<SecretBox> => secretBox(db, await masterKey(env.MASTER_KEY), orgId);

/** `…` and the last 4 characters; nothing of a short value. */
export function hintOf(secret: Record<string, unknown>): Record<string, string> {
  const hint: Record<string, string> = {};
  for (const [field, value] of Object.entries(secret)) {
    if (typeof value === "string") hint[field] = value.length >= 16 ? `…${value.slice(-4)}` : "…";
  }
  return hint;
}

export const allowPrivate = (env: Env) => env.ALLOW_PRIVATE_DESTINATIONS === "true";

/** Why the destination's URL may not be called, with the path of the field; null when it may. */
export function endpointProblem(env: Env, kind: DestinationKind, config: DestinationConfig<unknown, unknown>): { path: string; message: string } | null {
  const destination = DESTINATIONS[kind];
  try {
    assertPublicUrl(destination.endpoint(config), { allowPrivate: allowPrivate(env) });
    return null;
  } catch (error) {
    return { path: destination.endpointPath, message: error instanceof Error ? error.message : String(error) };
  }
}

/** A destination as the consumer sees it; its secret is opened only when something is sent. */
export interface LoadedDestination {
  id: string;
  kind: DestinationKind;
  minSeverity: number;
  enabled: boolean;
  rateLimitPerMinute: number;
  config(): Promise<DestinationConfig<unknown, unknown>>;
}

export interface OrgDestinations {
  slug: string | null;
  destinations: LoadedDestination[];
}

/** Every destination of an org (disabled ones too: a test alert may target one), with its org's slug. */
export async function loadOrgDestinations(env: Env, orgId: string): Promise<OrgDestinations> {
  const db = database(env.DB);
  const scope = orgScope(db, orgId);
  const [org, rows] = await db.batch([
    db.select({ slug: orgs.slug }).from(orgs).where(eq(orgs.id, orgId)),
    db.select().from(alertDestinations).where(scope.where(alertDestinations)),
  ]);
  let box: Promise<SecretBox> | undefined;
  const destinations = rows.map((row): LoadedDestination => {
    const stored = StoredSettings.parse(row.settings);
    const destination = DESTINATIONS[row.kind];
    let config: Promise<DestinationConfig<unknown, unknown>> | undefined;
    return {
      id: row.id,
      kind: row.kind,
      minSeverity: row.minSeverity,
      enabled: row.enabled,
      rateLimitPerMinute: stored.rate_limit_per_minute,
      config: () =>
        (config ??= (async () => {
          box ??= boxFor(env, db, orgId);
          const secret = JSON.parse(await (await box).open(row.sealedSecret, purposeOf(row.id)));
          return { settings: destination.settings.parse(stored.settings), secret: destination.secret.parse(secret) };
        })()),
    };
  });
  return { slug: org[0]?.slug ?? null, destinations };
}
