import { eq, gt } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { providerRoutes } from "../../../shared/api/providers.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import type { Env } from "../env.ts";
import { PROVIDERS } from "../providers/index.ts";
import { scopeOf, type RouterApiApp } from "./app.ts";

const { llmProviders, llmModels } = schema;
type ProviderRow = typeof llmProviders.$inferSelect;

/** Binds a sealed credential to its provider: it cannot be replayed as another's. */
export const credentialPurpose = (providerId: string) => `llm-provider:${providerId}`;

const serialize = (row: ProviderRow) => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  base_url: row.baseUrl,
  consumer: row.consumer,
  timeout_ms: row.timeoutMs,
  credential: { set: row.sealedCredential !== null, hint: row.credentialHint },
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

function checkedBaseUrl(env: Env, url: string): string {
  try {
    const parsed = assertPublicUrl(url, { allowPrivate: env.ALLOW_PRIVATE_UPSTREAMS === "true" });
    if (parsed.search || parsed.hash) throw new UnsafeUrlError("must not carry a query or fragment");
    return parsed.href.replace(/\/+$/, "");
  } catch (error) {
    if (error instanceof UnsafeUrlError) throw new ProblemError("validation_failed", `base_url ${error.message}`, [{ path: "base_url", message: error.message }]);
    throw error;
  }
}

async function seal(scope: OrgScope, env: Env, providerId: string, credential: string) {
  const box = secretBox(scope.db, await masterKey(env.MASTER_KEY), scope.orgId);
  return { sealedCredential: await box.seal(credential, credentialPurpose(providerId)), credentialHint: credential.length >= 12 ? `…${credential.slice(-4)}` : null };
}

async function findProvider(scope: OrgScope, id: string) {
  const row = await scope.db.query.llmProviders.findFirst({ where: scope.where(llmProviders, eq(llmProviders.id, id)) });
  if (!row) throw new ProblemError("not_found", `No provider ${id} in this org`);
  return row;
}

export function registerProviders(app: RouterApiApp) {
  app.openapi(providerRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(llmProviders)
      .where(scope.where(llmProviders, after ? gt(llmProviders.id, after) : undefined))
      .orderBy(llmProviders.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(providerRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    const defaultUrl = PROVIDERS[body.kind].defaultBaseUrl;
    if (!body.base_url && !defaultUrl) throw new ProblemError("validation_failed", `A ${body.kind} provider needs a base_url`, [{ path: "base_url", message: "required for this kind" }]);
    const baseUrl = checkedBaseUrl(c.env.env, body.base_url ?? defaultUrl!);
    const clash = await scope.db.query.llmProviders.findFirst({ where: scope.where(llmProviders, eq(llmProviders.name, body.name)) });
    if (clash) throw new ProblemError("conflict", `A provider named ${body.name} already exists (${clash.id})`);
    const id = ulid();
    const now = Date.now();
    const credential = body.credential ? await seal(scope, c.env.env, id, body.credential) : { sealedCredential: null, credentialHint: null };
    const [row] = await scope.db.insert(llmProviders).values({
      id, orgId: scope.orgId, name: body.name, kind: body.kind, baseUrl, consumer: body.consumer, timeoutMs: body.timeout_ms,
      ...credential, createdAt: now, updatedAt: now,
    }).returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(providerRoutes.get, async (c) => c.json(serialize(await findProvider(scopeOf(c), c.req.valid("param").id)), 200));

  app.openapi(providerRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    await findProvider(scope, id);
    const [row] = await scope.db.update(llmProviders).set({
      ...(body.base_url !== undefined ? { baseUrl: checkedBaseUrl(c.env.env, body.base_url) } : {}),
      ...(body.consumer !== undefined ? { consumer: body.consumer } : {}),
      ...(body.timeout_ms !== undefined ? { timeoutMs: body.timeout_ms } : {}),
      updatedAt: Date.now(),
    }).where(scope.where(llmProviders, eq(llmProviders.id, id))).returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(providerRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findProvider(scope, id);
    const models = await scope.db.select().from(llmModels).where(scope.where(llmModels));
    const using = models.filter((m) => [...m.deployments, ...m.fallbacks].some((d) => d.provider_id === id));
    if (using.length > 0) throw new ProblemError("conflict", `Models ${using.map((m) => m.name).join(", ")} route to this provider; change them first`);
    await scope.db.delete(llmProviders).where(scope.where(llmProviders, eq(llmProviders.id, id)));
    return c.body(null, 204);
  });

  app.openapi(providerRoutes.setCredential, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findProvider(scope, id);
    const sealed = await seal(scope, c.env.env, id, c.req.valid("json").credential);
    const [row] = await scope.db.update(llmProviders).set({ ...sealed, updatedAt: Date.now() })
      .where(scope.where(llmProviders, eq(llmProviders.id, id))).returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(providerRoutes.deleteCredential, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findProvider(scope, id);
    const [row] = await scope.db.update(llmProviders).set({ sealedCredential: null, credentialHint: null, updatedAt: Date.now() })
      .where(scope.where(llmProviders, eq(llmProviders.id, id))).returning();
    return c.json(serialize(row!), 200);
  });
}
