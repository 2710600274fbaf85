import { and, eq, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema.ts";

export { schema };
const connect = (d1: D1Database) => drizzle(d1, { schema });
export type Db = ReturnType<typeof connect>;

/**
 * One drizzle instance per D1 binding object: building one reads the whole relational schema
 * (drizzle's `extractTablesRelationalConfig`), which showed up among the hot path's largest
 * costs when every call built its own.
 */
const instances = new WeakMap<D1Database, Db>();

export function database(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) {
    db = connect(d1);
    instances.set(d1, db);
  }
  return db;
}

/** D1 binds at most 100 parameters per statement. */
export const D1_MAX_PARAMS = 100;

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Every tenant query goes through an OrgScope: it cannot be built without an org id,
 * and its `where` always includes `org_id = ?`, so one org's request cannot read or
 * change another's rows.
 */
export interface OrgScope {
  readonly db: Db;
  readonly orgId: string;
  where(table: { orgId: SQLiteColumn }, ...conditions: (SQL | undefined)[]): SQL;
}

export function orgScope(db: Db, orgId: string): OrgScope {
  if (!orgId) throw new Error("orgScope needs an org id");
  return {
    db,
    orgId,
    where: (table, ...conditions) => and(eq(table.orgId, orgId), ...conditions)!,
  };
}
