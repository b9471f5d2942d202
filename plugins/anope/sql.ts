/**
 * SQL names of the anope storage: the global id table, one table per type, index and
 * trigger names, and identifier quoting. Type and field names are restricted by the
 * registry to `[a-z][a-z0-9_]*`, and every identifier is quoted anyway.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { DialectName } from '../../src/index.js';

/** PostgreSQL truncates longer identifiers; longer names get a hash instead. */
const MAX_IDENTIFIER = 63;

/** Quotes an identifier for SQLite and PostgreSQL alike. */
export function q(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** The names of everything the anope plugin keeps in the database. */
export class AnopeNames {
  /** The global id table: `(id, type)`, ids shared by every type. */
  readonly objects: string;
  /** What the schema synchronization created for each type (its reference rules). */
  readonly types: string;
  /** Hashed API tokens. */
  readonly tokens: string;
  /** Small plugin settings (key, value). */
  readonly settings: string;

  /** @param prefix - the plugin's table prefix, e.g. `anope_` */
  constructor(readonly prefix: string) {
    this.objects = `${prefix}objects`;
    this.types = `${prefix}types`;
    this.tokens = `${prefix}tokens`;
    this.settings = `${prefix}settings`;
  }

  /** The table of a type: `anope_obj_<type>`. */
  table(type: string): string {
    return this.fit(`${this.prefix}obj_${type}`);
  }

  /** True when a table name is a type table. */
  isTypeTable(name: string): boolean {
    return name.startsWith(`${this.prefix}obj_`);
  }

  /** The index on a field's column (references, exact searches). */
  index(type: string, field: string): string {
    return this.fit(`${this.prefix}ix_${type}__${field}`);
  }

  /** The index on `lower(field)` (case-insensitive searches). */
  lowerIndex(type: string, field: string): string {
    return this.fit(`${this.prefix}lx_${type}__${field}`);
  }

  /** The trigger that removes an object's id when its row is deleted. */
  trigger(type: string): string {
    return this.fit(`${this.prefix}forget_${type}`);
  }

  /** The PostgreSQL trigger function shared by every type table. */
  get forgetFunction(): string {
    return this.fit(`${this.prefix}forget_object`);
  }

  /** The PostgreSQL advisory lock key that serializes schema changes of this prefix. */
  get lockKey(): string {
    return crypto.createHash('sha256').update(`switchboard-anope-schema:${this.prefix}`).digest().readBigInt64BE(0).toString();
  }

  private fit(name: string): string {
    if (name.length <= MAX_IDENTIFIER) return name;
    const hash = crypto.createHash('sha256').update(name).digest('hex').slice(0, 12);
    return `${name.slice(0, MAX_IDENTIFIER - 13)}_${hash}`;
  }
}

/** The rows of a `knex.raw` result on either engine. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Column type of ids and references. */
export function idType(dialect: DialectName): string {
  return dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
}

/** Runs a raw statement. */
export function exec(db: Knex | Knex.Transaction, sql: string, bindings: readonly unknown[] = []): Promise<unknown> {
  return db.raw(sql, bindings as Knex.RawBinding[]) as unknown as Promise<unknown>;
}
