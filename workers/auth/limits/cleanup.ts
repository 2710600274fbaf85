import { and, eq, inArray, or } from "drizzle-orm";
import { schema, type OrgScope } from "../../../shared/db/index.ts";

const { apiKeys, limitRules } = schema;

/**
 * Limit rules go with the key, user or team they limit: each helper is one DELETE for the
 * caller's `db.batch`, beside the write that revokes or deletes the entity, so a rule can never
 * outlive it (nor a failed batch drop a rule whose entity stays). Spend counters in the
 * OrgState are history and stay.
 */
export const deleteKeyRules = (scope: OrgScope, keyId: string) =>
  scope.db.delete(limitRules).where(scope.where(limitRules, eq(limitRules.scope, "key"), eq(limitRules.scopeId, keyId)));

export const deleteTeamRules = (scope: OrgScope, teamId: string) =>
  scope.db.delete(limitRules).where(scope.where(limitRules, eq(limitRules.scope, "team"), eq(limitRules.scopeId, teamId)));

/**
 * A deleted user's rule, and the rules of the API keys deleted with them: place it in the batch
 * before the keys' DELETE, which the subquery reads.
 */
export const deleteUserRules = (scope: OrgScope, userId: string) => {
  const keysOfUser = scope.db.select({ id: apiKeys.id }).from(apiKeys).where(scope.where(apiKeys, eq(apiKeys.userId, userId)));
  return scope.db.delete(limitRules).where(
    scope.where(
      limitRules,
      or(and(eq(limitRules.scope, "user"), eq(limitRules.scopeId, userId)), and(eq(limitRules.scope, "key"), inArray(limitRules.scopeId, keysOfUser))),
    ),
  );
};
