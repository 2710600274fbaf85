import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { database, schema } from "../../shared/db/index.ts";
import { mintToken } from "../../shared/tokens.ts";
import { verifyCredential } from "./credentials.ts";
import type { Env } from "./env.ts";
import { orgState } from "./org-state.ts";

const testEnv = env as unknown as Env;
const db = database(testEnv.DB);
const now = Date.now();

async function seedOrg(slug: string) {
  // Storage is shared by the tests of a file: every test seeds its own org.
  const unique = crypto.randomUUID().slice(0, 8);
  const org = { id: `org_${unique}`, slug: `${slug}-${unique}`, name: slug };
  await db.insert(schema.orgs).values({ ...org, createdAt: now });
  return org;
}

async function seedKey(orgId: string, fields: Partial<typeof schema.apiKeys.$inferInsert> = {}) {
  const minted = await mintToken("api_key");
  await db.insert(schema.apiKeys).values({
    id: minted.id, orgId, name: "agent", secretHash: minted.hash, hint: minted.hint, createdAt: now, ...fields,
  });
  return minted;
}

const versionOf = (orgId: string) => orgState(testEnv, orgId).configVersion();

describe("verifyCredential", () => {
  let acme: Awaited<ReturnType<typeof seedOrg>>;
  beforeEach(async () => {
    acme = await seedOrg("acme");
  });

  it("turns a valid key into the principal of its user, teams and client", async () => {
    await db.insert(schema.users).values({ id: `${acme.id}_u1`, orgId: acme.id, email: "ada@acme.test", createdAt: now, updatedAt: now });
    await db.insert(schema.teams).values({ id: `${acme.id}_t1`, orgId: acme.id, name: "sre", createdAt: now, updatedAt: now });
    await db.insert(schema.teamMemberships).values({ orgId: acme.id, teamId: `${acme.id}_t1`, userId: `${acme.id}_u1`, createdAt: now });
    const key = await seedKey(acme.id, { userId: `${acme.id}_u1` });

    const result = await verifyCredential(db, acme, await versionOf(acme.id), key.token, "claude-cli/2.0.1 (external, cli)");
    expect(result).toMatchObject({
      ok: true,
      principal: {
        kind: "api_key", org_id: acme.id, credential_id: key.id, user_id: `${acme.id}_u1`, email: "ada@acme.test",
        teams: [{ id: `${acme.id}_t1`, name: "sre" }], roles: [], client: { name: "claude-code", version: "2.0.1" },
      },
    });
  });

  it("refuses a right id with a wrong secret", async () => {
    const key = await seedKey(acme.id);
    const forged = key.token.slice(0, -4) + (key.token.endsWith("AAAA") ? "BBBB" : "AAAA");
    const result = await verifyCredential(db, acme, await versionOf(acme.id), forged, null);
    expect(result).toMatchObject({ ok: false, code: "invalid_credential" });
  });

  it("says when a credential of another org is used", async () => {
    const globex = await seedOrg("globex");
    const key = await seedKey(globex.id);
    const result = await verifyCredential(db, acme, await versionOf(acme.id), key.token, null);
    expect(result).toMatchObject({ ok: false, code: "credential_wrong_org" });
  });

  it("refuses expired keys and keys of deactivated users", async () => {
    const expired = await seedKey(acme.id, { expiresAt: now - 1 });
    await db.insert(schema.users).values({ id: `${acme.id}_u2`, orgId: acme.id, email: "gone@acme.test", status: "deactivated", createdAt: now, updatedAt: now });
    const orphaned = await seedKey(acme.id, { userId: `${acme.id}_u2` });
    const version = await versionOf(acme.id);
    expect(await verifyCredential(db, acme, version, expired.token, null)).toMatchObject({ ok: false, code: "credential_expired" });
    expect(await verifyCredential(db, acme, version, orphaned.token, null)).toMatchObject({ ok: false, code: "user_deactivated" });
  });

  it("serves from the isolate cache until the org's config version moves", async () => {
    const key = await seedKey(acme.id);
    const before = await versionOf(acme.id);
    expect(await verifyCredential(db, acme, before, key.token, null)).toMatchObject({ ok: true });

    // Revoked in D1, but nothing bumped the version: the cached verdict stands (no D1 read).
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    expect(await verifyCredential(db, acme, before, key.token, null)).toMatchObject({ ok: true });

    // Every admin write bumps the version; the next request reloads and sees the revocation.
    const after = await orgState(testEnv, acme.id).bumpConfigVersion();
    expect(after).toBe(before + 1);
    expect(await verifyCredential(db, acme, after, key.token, null)).toMatchObject({ ok: false, code: "credential_revoked" });
  });
});

describe("OrgState", () => {
  it("starts each org at version 1 and counts every bump", async () => {
    const state = orgState(testEnv, "org-version-test");
    expect(await state.configVersion()).toBe(1);
    await state.bumpConfigVersion();
    expect(await state.bumpConfigVersion()).toBe(3);
    expect(await orgState(testEnv, "another-org").configVersion()).toBe(1);
  });
});
