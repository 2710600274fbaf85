import { eq } from "drizzle-orm";
import { schema, type Db } from "../../shared/db/index.ts";

/** A user as a principal needs them: status for refusals, teams for policy and events. */
export interface UserRecord {
  id: string;
  orgId: string;
  email: string;
  status: "active" | "deactivated";
  teams: { id: string; name: string }[];
}

/** One user and their teams, read together; used by every credential kind that names a user. */
export async function loadUserRecord(db: Db, userId: string): Promise<UserRecord | null> {
  const [user, teams] = await Promise.all([
    db.query.users.findFirst({ where: eq(schema.users.id, userId) }),
    db
      .select({ id: schema.teams.id, name: schema.teams.name })
      .from(schema.teamMemberships)
      .innerJoin(schema.teams, eq(schema.teams.id, schema.teamMemberships.teamId))
      .where(eq(schema.teamMemberships.userId, userId))
      .orderBy(schema.teams.name),
  ]);
  return user ? { id: user.id, orgId: user.orgId, email: user.email, status: user.status, teams } : null;
}
