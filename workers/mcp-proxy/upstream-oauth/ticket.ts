import { database } from "../../../shared/db/index.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import type { Env } from "../env.ts";

/** How long a connect URL may be followed after the gateway handed it out. */
const TICKET_TTL_MS = 10 * 60_000;
const PURPOSE = "mcp-connect-ticket";

/** Who is connecting to which server: sealed into the connect URL, since the browser that follows it carries no Airlock credential. */
export interface Ticket {
  userId: string;
  serverId: string;
}

export async function sealTicket(env: Env, orgId: string, ticket: Ticket): Promise<string> {
  const box = secretBox(database(env.DB), await masterKey(env.MASTER_KEY), orgId);
  return box.seal(JSON.stringify({ u: ticket.userId, s: ticket.serverId, e: Date.now() + TICKET_TTL_MS }), PURPOSE);
}

/** The ticket, or null when it is not one this org's gateway sealed or it has expired. */
export async function openTicket(env: Env, orgId: string, sealed: string): Promise<Ticket | null> {
  const box = secretBox(database(env.DB), await masterKey(env.MASTER_KEY), orgId);
  try {
    const { u, s, e } = JSON.parse(await box.open(sealed, PURPOSE)) as { u: string; s: string; e: number };
    return e > Date.now() ? { userId: u, serverId: s } : null;
  } catch {
    return null;
  }
}
