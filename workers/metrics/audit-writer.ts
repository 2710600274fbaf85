import { getTableColumns } from "drizzle-orm";
import { chunk, D1_MAX_PARAMS, type Db, schema } from "../../shared/db/index.ts";
import { AirlockEventSchema, type AirlockEvent } from "../../shared/events.ts";

const { auditEvents } = schema;
const COLUMNS = Object.keys(getTableColumns(auditEvents)).length;
/** Rows per INSERT so that one statement binds at most D1's 100 parameters. */
export const ROWS_PER_INSERT = Math.floor(D1_MAX_PARAMS / COLUMNS);

const toRow = (event: AirlockEvent): typeof auditEvents.$inferInsert => ({
  id: event.metadata.uid,
  orgId: event.airlock.org_id,
  time: event.time,
  requestId: event.metadata.correlation_uid,
  typeUid: event.type_uid,
  statusId: event.status_id,
  actorUserId: (event.actor as { user?: { uid?: string | null } } | undefined)?.user?.uid ?? null,
  credentialId: (event.airlock.credential_id as string | null | undefined) ?? null,
  event,
});

/**
 * Appends one queue batch to the audit log in a single D1 batch (all rows or none, so a
 * retry never half-writes). Inserts ignore ids already present: redelivery is harmless.
 */
export async function appendAuditEvents(db: Db, events: AirlockEvent[]): Promise<void> {
  if (events.length === 0) return;
  const statements = chunk(events.map(toRow), ROWS_PER_INSERT).map((rows) =>
    db.insert(auditEvents).values(rows).onConflictDoNothing(),
  );
  await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
}

export type ParsedMessage = { ok: true; event: AirlockEvent } | { ok: false; issues: string };

export function parseEvent(body: unknown): ParsedMessage {
  const result = AirlockEventSchema.safeParse(body);
  if (result.success) return { ok: true, event: result.data };
  return { ok: false, issues: result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
}
