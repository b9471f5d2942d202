/**
 * Schema synchronization: creates the table of every registered type, its columns, the
 * foreign keys of its reference fields, its indexes and the trigger that keeps the global
 * id table in step, so that the database does the cascades, as Anope's SQL backend did.
 *
 * Types are registered at run time, so this runs outside the static migrations. It is:
 * - idempotent: it reads the catalog and adds only what is missing (`IF NOT EXISTS` too);
 * - additive: fields that are no longer registered keep their column and data;
 * - safe on restart and when several instances start at once: on PostgreSQL the whole
 *   synchronization runs in one transaction under an advisory lock (DDL is transactional
 *   there, so a failure leaves nothing half-done); on SQLite it runs in one transaction and
 *   is retried when another process holds the write lock;
 * - strict: changing a field's reference rule (its target or cascade/null) after its column
 *   exists would need a table rebuild, so it stops startup with a message instead.
 *
 * Layout:
 * ```
 * anope_objects(id, type)                   every id, global across types
 * anope_obj_<type>(id → anope_objects ON DELETE CASCADE, <field> TEXT…,
 *                  <ref> → anope_obj_<target>(id) or anope_objects(id) for "any"
 *                          ON DELETE CASCADE | SET NULL)
 * trigger: AFTER DELETE ON anope_obj_<type> → DELETE FROM anope_objects WHERE id = OLD.id
 * ```
 * Deleting a type row thus deletes its id, which cascades to "any" references; typed
 * references cascade from the type row itself; every cascaded row's trigger removes its id.
 */
import type { Knex } from 'knex';
import type { Dialect, Logger } from '../../src/index.js';
import { ANY_TYPE, type AnopeField, type AnopeType, type AnopeTypeRegistry } from './type-registry.js';
import { AnopeNames, exec, idType, q, rowsOf } from './sql.js';

/** What the database holds for one field, as recorded in `anope_types`. */
interface StoredField {
  name: string;
  ref?: string;
  onDelete?: string;
}

/** The database's current objects: type tables with their columns, indexes and triggers. */
interface Catalog {
  columns: Map<string, Set<string>>;
  indexes: Set<string>;
  triggers: Set<string>;
}

/** Raised when a registered type contradicts what the database holds. */
export class SchemaConflictError extends Error {
  /** @param message - what contradicts what */
  constructor(message: string) {
    super(message);
    this.name = 'SchemaConflictError';
  }
}

const SQLITE_RETRIES = 8;

/** Creates and evolves the per-type tables. One per plugin instance. */
export class SchemaSync {
  private done?: Promise<void>;
  private readonly indexes = new Set<string>();

  /**
   * @param db - the shared Knex handle
   * @param dialect - the engine's helpers
   * @param names - the plugin's table names
   * @param registry - the registered types
   * @param logger - the plugin's logger
   */
  constructor(
    private readonly db: Knex,
    private readonly dialect: Dialect,
    private readonly names: AnopeNames,
    private readonly registry: AnopeTypeRegistry,
    private readonly logger: Logger,
  ) {}

  /** True once the schema is synchronized in this process. */
  get ready(): boolean {
    return this.synced;
  }

  private synced = false;

  /** Synchronizes once per process (later calls share the first); freezes the registry. */
  ensure(): Promise<void> {
    this.done ??= this.run().then(
      () => {
        this.synced = true;
      },
      (err: unknown) => {
        this.done = undefined;
        throw err;
      },
    );
    return this.done;
  }

  /** True when an index with that name is known to exist. */
  hasIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  /**
   * Creates an index on a field's column (the first search on an unindexed field does
   * this). Safe when another instance creates the same index at the same time.
   */
  async createFieldIndex(type: AnopeType, field: AnopeField): Promise<void> {
    const name = field.nocase ? this.names.lowerIndex(type.name, field.name) : this.names.index(type.name, field.name);
    if (this.indexes.has(name)) return;
    try {
      await exec(this.db, this.indexSql(type, field));
    } catch (err) {
      // Another instance won the race: the index exists, which is all we want.
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P07') throw err;
    }
    this.indexes.add(name);
    this.logger.info({ type: type.name, field: field.name, index: name }, 'created an index for searches on this field');
  }

  private async run(): Promise<void> {
    this.registry.freeze('the anope schema was synchronized');
    const started = Date.now();
    let created = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        created = await this.db.transaction((trx) => this.apply(trx));
        break;
      } catch (err) {
        if (this.dialect.name !== 'sqlite' || attempt >= SQLITE_RETRIES || !isBusy(err)) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
    const catalog = await this.readCatalog(this.db);
    for (const name of catalog.indexes) this.indexes.add(name);
    if (created > 0) this.logger.info({ statements: created, ms: Date.now() - started }, 'anope schema synchronized');
  }

  /** Applies what is missing; returns the number of DDL statements run. */
  private async apply(trx: Knex.Transaction): Promise<number> {
    const pg = this.dialect.name === 'postgres';
    if (pg) await exec(trx, 'SELECT pg_advisory_xact_lock(?::bigint)', [this.names.lockKey]);
    const catalog = await this.readCatalog(trx);
    const stored = await this.readStored(trx);
    const types = this.registry.list();
    this.checkConflicts(types, stored);
    const statements: string[] = [];
    const idCol = idType(this.dialect.name);
    const objects = q(this.names.objects);

    if (pg && !(await this.functionExists(trx))) {
      statements.push(
        `CREATE OR REPLACE FUNCTION ${q(this.names.forgetFunction)}() RETURNS trigger LANGUAGE plpgsql AS $$ ` +
          `BEGIN DELETE FROM ${await this.qualifiedObjects(trx)} WHERE id = OLD.id; RETURN NULL; END $$`,
      );
    }
    // Tables first, with their plain columns, so that reference targets exist afterwards.
    for (const type of types) {
      const table = this.names.table(type.name);
      if (catalog.columns.has(table)) continue;
      const plain = type.fields.filter((f) => !f.ref).map((f) => `${q(f.name)} TEXT`);
      statements.push(
        `CREATE TABLE IF NOT EXISTS ${q(table)} (id ${idCol} PRIMARY KEY REFERENCES ${objects}(id) ON DELETE CASCADE${plain.map((c) => `, ${c}`).join('')})`,
      );
      catalog.columns.set(table, new Set(['id', ...type.fields.filter((f) => !f.ref).map((f) => f.name)]));
    }
    for (const type of types) {
      const table = this.names.table(type.name);
      const have = catalog.columns.get(table)!;
      for (const field of type.fields) {
        if (have.has(field.name)) continue;
        statements.push(`ALTER TABLE ${q(table)} ADD COLUMN ${this.columnSql(field)}`);
        have.add(field.name);
      }
    }
    for (const type of types) {
      for (const field of type.fields) {
        if (!field.indexed) continue;
        const name = field.nocase ? this.names.lowerIndex(type.name, field.name) : this.names.index(type.name, field.name);
        if (!catalog.indexes.has(name)) statements.push(this.indexSql(type, field));
      }
      const trigger = this.names.trigger(type.name);
      if (!catalog.triggers.has(trigger)) {
        const table = q(this.names.table(type.name));
        statements.push(
          pg
            ? `CREATE TRIGGER ${q(trigger)} AFTER DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${q(this.names.forgetFunction)}()`
            : `CREATE TRIGGER IF NOT EXISTS ${q(trigger)} AFTER DELETE ON ${table} FOR EACH ROW BEGIN DELETE FROM ${objects} WHERE id = OLD.id; END`,
        );
      }
    }
    await this.dialect.execBatch(trx, statements);
    await this.record(trx, types, stored);
    return statements.length;
  }

  private columnSql(field: AnopeField): string {
    if (!field.ref) return `${q(field.name)} TEXT`;
    const target = field.ref === ANY_TYPE ? this.names.objects : this.names.table(field.ref);
    const action = field.onDelete === 'cascade' ? 'CASCADE' : 'SET NULL';
    return `${q(field.name)} ${idType(this.dialect.name)} REFERENCES ${q(target)}(id) ON DELETE ${action}`;
  }

  private indexSql(type: AnopeType, field: AnopeField): string {
    const table = q(this.names.table(type.name));
    if (field.nocase) return `CREATE INDEX IF NOT EXISTS ${q(this.names.lowerIndex(type.name, field.name))} ON ${table} (lower(${q(field.name)}))`;
    return `CREATE INDEX IF NOT EXISTS ${q(this.names.index(type.name, field.name))} ON ${table} (${q(field.name)})`;
  }

  /** Refuses a registered field whose reference rule differs from the column's. */
  private checkConflicts(types: AnopeType[], stored: Map<string, Map<string, StoredField>>): void {
    const problems: string[] = [];
    for (const type of types) {
      const fields = stored.get(type.name);
      if (!fields) continue;
      for (const field of type.fields) {
        const before = fields.get(field.name);
        if (!before) continue;
        if ((before.ref ?? null) !== (field.ref ?? null) || (before.onDelete ?? null) !== (field.onDelete ?? null)) {
          problems.push(`'${type.name}.${field.name}' is stored as ${describe(before)} but registered as ${describe(field)}`);
        }
      }
    }
    if (problems.length > 0) {
      throw new SchemaConflictError(
        `anope field ${problems.join('; ')}. Changing a reference rule needs a table rebuild: register the field as it was, or migrate its table by hand`,
      );
    }
  }

  /** Records every field that now has a column (previous records are kept: columns stay). */
  private async record(trx: Knex.Transaction, types: AnopeType[], stored: Map<string, Map<string, StoredField>>): Promise<void> {
    const now = new Date().toISOString();
    const rows: Array<{ name: string; fields: string; updated_at: string }> = [];
    for (const type of types) {
      const before = stored.get(type.name);
      const merged = new Map(before ?? []);
      let changed = !before;
      for (const f of type.fields) {
        if (merged.has(f.name)) continue;
        merged.set(f.name, { name: f.name, ...(f.ref ? { ref: f.ref, onDelete: f.onDelete } : {}) });
        changed = true;
      }
      if (!changed) continue;
      rows.push({ name: type.name, fields: JSON.stringify([...merged.values()]), updated_at: now });
    }
    if (rows.length > 0) await trx(this.names.types).insert(rows).onConflict('name').merge(['fields', 'updated_at']);
  }

  private async readStored(trx: Knex.Transaction): Promise<Map<string, Map<string, StoredField>>> {
    const rows = (await trx(this.names.types).select('name', 'fields')) as Array<{ name: string; fields: string }>;
    const out = new Map<string, Map<string, StoredField>>();
    for (const row of rows) {
      const fields = JSON.parse(row.fields) as StoredField[];
      out.set(row.name, new Map(fields.map((f) => [f.name, f])));
    }
    return out;
  }

  private async readCatalog(db: Knex | Knex.Transaction): Promise<Catalog> {
    const columns = new Map<string, Set<string>>();
    const add = (table: string, column: string) => {
      if (!this.names.isTypeTable(table)) return;
      let set = columns.get(table);
      if (!set) columns.set(table, (set = new Set()));
      set.add(column);
    };
    if (this.dialect.name === 'postgres') {
      const cols = rowsOf<{ table_name: string; column_name: string }>(
        await exec(db, 'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()'),
      );
      for (const c of cols) add(c.table_name, c.column_name);
      const idx = rowsOf<{ indexname: string }>(await exec(db, 'SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()'));
      const trg = rowsOf<{ tgname: string }>(
        await exec(
          db,
          'SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()',
        ),
      );
      return { columns, indexes: new Set(idx.map((r) => r.indexname)), triggers: new Set(trg.map((r) => r.tgname)) };
    }
    const cols = rowsOf<{ tbl: string; col: string }>(
      await exec(db, "SELECT m.name AS tbl, p.name AS col FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"),
    );
    for (const c of cols) add(c.tbl, c.col);
    const other = rowsOf<{ type: string; name: string }>(await exec(db, "SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger')"));
    return {
      columns,
      indexes: new Set(other.filter((r) => r.type === 'index').map((r) => r.name)),
      triggers: new Set(other.filter((r) => r.type === 'trigger').map((r) => r.name)),
    };
  }

  private async functionExists(trx: Knex.Transaction): Promise<boolean> {
    const rows = rowsOf(
      await exec(trx, 'SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = ? AND n.nspname = current_schema()', [
        this.names.forgetFunction,
      ]),
    );
    return rows.length > 0;
  }

  /** The id table qualified with its schema, so the trigger does not depend on a session's search_path. */
  private async qualifiedObjects(trx: Knex.Transaction): Promise<string> {
    const [row] = rowsOf<{ schema: string }>(await exec(trx, 'SELECT current_schema() AS schema'));
    return `${q(row.schema)}.${q(this.names.objects)}`;
  }
}

function describe(field: { ref?: string; onDelete?: string }): string {
  if (!field.ref) return 'a plain field';
  return `a reference to ${field.ref === ANY_TYPE ? 'any type' : `'${field.ref}'`} (on delete ${field.onDelete ?? 'null'})`;
}

function isBusy(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'SQLITE_BUSY' || /SQLITE_BUSY|database is locked/i.test(String(e?.message));
}
