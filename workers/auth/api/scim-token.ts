import { desc, isNull } from "drizzle-orm";
import { iso } from "../../../shared/api/cursor.ts";
import { scimTokenRoutes } from "../../../shared/api/scim-token.ts";
import { schema } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { mintToken } from "../../../shared/tokens.ts";
import { scimBaseUrl } from "../scim/index.ts";
import { scopeOf, type AuthApiApp } from "./app.ts";

const { scimTokens } = schema;


export function registerScimToken(app: AuthApiApp) {
  app.openapi(scimTokenRoutes.get, async (c) => {
    const scope = scopeOf(c);
    const row = await scope.db.query.scimTokens.findFirst({
      where: scope.where(scimTokens, isNull(scimTokens.revokedAt)),
      orderBy: desc(scimTokens.id),
    });
    if (!row) throw new ProblemError("not_found", "This org has no SCIM token; create one with POST /api/v1/scim-token");
    return c.json({ id: row.id, hint: row.hint, created_at: iso(row.createdAt), scim_base_url: scimBaseUrl(c.req.url) }, 200);
  });

  app.openapi(scimTokenRoutes.rotate, async (c) => {
    const scope = scopeOf(c);
    const minted = await mintToken("scim_token");
    const now = Date.now();
    // One batch: the new token exists exactly when every older one is revoked.
    await scope.db.batch([
      scope.db.update(scimTokens).set({ revokedAt: now }).where(scope.where(scimTokens, isNull(scimTokens.revokedAt))),
      scope.db.insert(scimTokens).values({ id: minted.id, orgId: scope.orgId, secretHash: minted.hash, hint: minted.hint, createdAt: now }),
    ]);
    return c.json({ id: minted.id, hint: minted.hint, created_at: iso(now), scim_base_url: scimBaseUrl(c.req.url), secret: minted.token }, 201);
  });
}
