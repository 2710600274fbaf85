import { getTableColumns, getTableName } from "drizzle-orm";
import { schema } from "../../shared/db/index.ts";
import { AirlockEventSchema, type AirlockEvent } from "../../shared/events.ts";

const { auditEvents } = schema;
type AuditRow = Required<typeof auditEvents.$inferInsert>;

/** Each audit_events column, from the event it is indexed by. */
const COLUMN_OF: { [K in keyof AuditRow]: (event: AirlockEvent) => AuditRow[K] } = {
  id: (event) => event.metadata.uid,
  orgId: (event) => event.airlock.org_id,
  time: (event) => event.time,
  requestId: (event) => event.metadata.correlation_uid,
  typeUid: (event) => event.type_uid,
  statusId: (event) => event.status_id,
  actorUserId: (event) => (event.actor as { user?: { uid?: string | null } } | undefined)?.user?.uid ?? null,
  credentialId: (event) => (event.airlock.credential_id as string | null | undefined) ?? null,
  event: (event) => event,
};
const COLUMNS = Object.entries(getTableColumns(auditEvents)).map(([key, column]) => ({ name: column.name, value: COLUMN_OF[key as keyof AuditRow] }));

/**
 * Rows travel as ONE bound parameter, a JSON array of row arrays, which SQLite unpacks
 * (`json_each`): one statement for many rows instead of one per 11 rows (D1's
 * 100-parameter limit), and each event is serialised once, inside that array; SQLite writes
 * the `event` column back out as the event's JSON text. Ids already present are skipped,
 * so a redelivered batch is harmless (`WHERE true` lets SQLite parse an upsert after a SELECT).
 */
const INSERT = `INSERT INTO "${getTableName(auditEvents)}" (${COLUMNS.map((c) => `"${c.name}"`).join(", ")}) `
  + `SELECT ${COLUMNS.map((_, i) => `value ->> ${i}`).join(", ")} FROM json_each(?1) WHERE true `
  + `ON CONFLICT ("id") DO NOTHING`;

/**
 * Characters of rows per statement: about a hundred model-call events, far under D1's 2 MB
 * limit on one string value. Under workerd every Worker of a process shares one thread, so
 * what the consumer does between two awaits (parse and serialise one statement's events) is
 * what a request arriving meanwhile waits for: a statement's worth, however large the batch.
 * Smaller statements cost more in all (each is a D1 round trip and a commit).
 */
export const MAX_STATEMENT_JSON = 128_000;

export interface AuditAppender {
  /** Adds the event's row; sends the statement first when the row would overflow it. */
  append(event: AirlockEvent): Promise<void>;
  /** Sends the rows not sent yet. */
  flush(): Promise<void>;
}

/**
 * Appends to the audit log a statement at a time, each built just before it is sent (a single
 * row larger than MAX_STATEMENT_JSON goes alone). A retry after a partial write is harmless:
 * ids already stored are skipped.
 */
export function auditAppender(db: D1Database): AuditAppender {
  const insert = db.prepare(INSERT);
  let rows: string[] = [];
  let size = 0;
  const flush = async () => {
    if (rows.length === 0) return;
    const json = `[${rows.join(",")}]`;
    rows = [];
    size = 0;
    await insert.bind(json).run();
  };
  return {
    async append(event) {
      const row = JSON.stringify(COLUMNS.map((c) => c.value(event)));
      if (rows.length > 0 && size + row.length + 1 > MAX_STATEMENT_JSON) await flush();
      rows.push(row);
      size += row.length + 1;
    },
    flush,
  };
}

export type ParsedMessage = { ok: true; event: AirlockEvent } | { ok: false; issues: string };

export function parseEvent(body: unknown): ParsedMessage {
  const result = AirlockEventSchema.safeParse(body);
  if (result.success) return { ok: true, event: result.data };
  return { ok: false, issues: result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
}
