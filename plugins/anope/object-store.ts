/**
 * The object store: typed objects with global ids, reference checks, searches, reference
 * lookups, and deletes whose cascades the database performs through its foreign keys.
 *
 * Every query of a type is built once (per type, per filter shape) and reused; reading an
 * object, including the types of its "any" references, is one query, and concurrent reads
 * by id share one batched query ({@link IdBatcher}), as do concurrent searches on a field
 * ({@link FieldSearch}).
 */
import type { Knex } from 'knex';
import type { Dialect } from '../../src/index.js';
import {
  badJson,
  badReference,
  cascadeTooDeep,
  invalidId,
  invalidValue,
  mismatch,
  noSuchFieldNamed,
  noSuchFieldSearch,
  noSuchFieldUpdate,
  notFound,
  unknownRefType,
  unknownType,
  AnopeMessages,
} from './errors.js';
import type { WireObject } from './json-writer.js';
import type { AnopeEvents } from './events.js';
import { FieldSearch } from './field-search.js';
import { IdBatcher } from './id-batcher.js';
import { createRowReader, type RowReader } from './row-reader.js';
import type { SchemaSync } from './schema-sync.js';
import { AnopeNames, exec, q, rowsOf } from './sql.js';
import { ANY_TYPE, type AnopeField, type AnopeType, type AnopeTypeRegistry } from './type-registry.js';

/** The DI token under which the anope plugin provides its {@link AnopeObjectStore}. */
export const AnopeObjects = Symbol.for('switchboard.anope.objects');

/** Values for a new object: field name → value (strings; numbers and booleans are converted; null or '' leaves it unset). */
export type ObjectInput = Record<string, unknown>;

/** Objects per page when listing; each page is one query and one write. */
export const PAGE_SIZE = 1000;

const ID = /^\d{1,15}$/;
const REFERENCE = /^([a-z][a-z0-9_]{0,39}):(\d{1,15})$/;

type Row = Record<string, unknown>;

/** Everything precomputed for one type. */
interface TypeSql {
  readonly type: AnopeType;
  readonly select: string;
  /** The select list of {@link select}. */
  readonly columns: string;
  /** The `FROM` clause of {@link select}, with the joins. */
  readonly from: string;
  readonly byId: IdBatcher<Row & { id: unknown }>;
  readonly page: string;
  readonly toWire: (row: Row) => WireObject;
  readonly searches: Map<string, FieldSearch>;
  readonly refPages: Map<string, string>;
}

/** A selection of objects for {@link AnopeObjectStore.page}: those referencing `id` through any of `columns`. */
export interface RefFilter {
  /** The reference columns to look in. */
  readonly columns: readonly string[];
  /** The referenced object's id. */
  readonly id: number;
}

/** What {@link AnopeObjectStore.refsFilter} answers. */
export interface RefsLookup {
  /** The type whose objects are listed. */
  refType: AnopeType;
  /** Which of its objects: those referencing the object. */
  filter: RefFilter;
}

/** Parses an id from a path: digits only. Throws 400 `Invalid id`. */
export function parseId(raw: string | undefined): number {
  if (raw === undefined || !ID.test(raw)) throw invalidId();
  return Number(raw);
}

/** The typed object store of the anope plugin. */
export class AnopeObjectStore {
  private readonly sql = new Map<string, TypeSql>();
  private readonly pg: boolean;
  private readonly typeOfSql: string;

  /**
   * @param db - the shared Knex handle
   * @param dialect - the engine's helpers
   * @param names - the plugin's table names
   * @param registry - the registered types
   * @param schema - the schema synchronization (awaited before the first operation)
   * @param reader - runs the read queries (see {@link createRowReader})
   * @param events - where changes are announced (`anope.object.*`)
   */
  constructor(
    private readonly db: Knex,
    private readonly dialect: Dialect,
    private readonly names: AnopeNames,
    readonly registry: AnopeTypeRegistry,
    private readonly schema: SchemaSync,
    private readonly reader: RowReader = createRowReader(db, dialect),
    private readonly events?: AnopeEvents,
  ) {
    this.pg = dialect.name === 'postgres';
    this.typeOfSql = `SELECT type FROM ${q(names.objects)} WHERE id = ?`;
  }

  /** Synchronizes the schema if that has not happened yet (start does it; CLI commands and tests may call it). */
  async ready(): Promise<void> {
    if (!this.schema.ready) await this.schema.ensure();
  }

  /** The registered type of that name. Throws 404 `Unknown type`. */
  type(name: string): AnopeType {
    const type = this.registry.get(name);
    if (!type) throw unknownType();
    return type;
  }

  /** The type of the object with that id, or undefined when there is none. */
  async typeOf(id: number): Promise<string | undefined> {
    if (!this.schema.ready) await this.schema.ensure();
    const [row] = await this.reader.rows<{ type: string }>(this.typeOfSql, [id]);
    return row?.type;
  }

  /** Reads an object. Throws 404 `Not found` or `Type/id mismatch`. */
  async get(typeName: string, id: number): Promise<WireObject> {
    const sql = this.compiled(typeName);
    if (!this.schema.ready) await this.schema.ensure();
    const row = await sql.byId.load(id);
    if (row) return sql.toWire(row);
    throw await this.missing(typeName, id);
  }

  /**
   * Finds the first object (lowest id) whose field equals `value`: case-insensitively for
   * name-like fields, by `type:id` for references. The first search on a field without an
   * index creates one. Throws 404 `No such field` or `Not found`.
   */
  async find(typeName: string, fieldName: string, value: string): Promise<WireObject> {
    const sql = this.compiled(typeName);
    const field = sql.type.byName.get(fieldName);
    if (!field) throw noSuchFieldSearch();
    await this.ready();
    let binding: unknown = value;
    let reference: string | undefined;
    if (field.ref) {
      const m = REFERENCE.exec(value);
      if (!m || (field.ref !== ANY_TYPE && m[1] !== field.ref)) throw notFound();
      binding = Number(m[2]);
      reference = `${m[1]}:${Number(m[2])}`;
    }
    if (!field.indexed && !this.schema.hasIndex(this.names.index(typeName, field.name))) {
      await this.schema.createFieldIndex(sql.type, field);
    }
    let search = sql.searches.get(field.name);
    if (!search) {
      const where = field.nocase ? `lower(t.${q(field.name)}) = lower(?)` : `t.${q(field.name)} = ?`;
      search = new FieldSearch(this.reader, sql.columns, sql.from, where);
      sql.searches.set(field.name, search);
    }
    const row = await search.first(binding);
    if (!row) throw notFound();
    const found = sql.toWire(row);
    if (field.ref === ANY_TYPE && found.fields.find(([n]) => n === field.name)?.[1] !== reference) throw notFound();
    return found;
  }

  /**
   * Which columns of `refTypeName` can reference an object of `typeName`, after checking
   * that the object exists with that type. Throws 404 `Unknown reference type`, `Not found`
   * or `Type/id mismatch`.
   */
  async refsFilter(typeName: string, id: number, refTypeName: string): Promise<RefsLookup> {
    this.type(typeName);
    const refType = this.registry.get(refTypeName);
    if (!refType) throw unknownRefType();
    const actual = await this.typeOf(id);
    if (actual === undefined) throw notFound();
    if (actual !== typeName) throw mismatch();
    const columns = refType.fields.filter((f) => f.ref === typeName || f.ref === ANY_TYPE).map((f) => f.name);
    return { refType, filter: { columns, id } };
  }

  /**
   * A page of objects in id order after `afterId` (keyset paging, so listing never holds
   * more than a page), optionally only those referencing an object.
   */
  async page(typeName: string, afterId: number, limit = PAGE_SIZE, filter?: RefFilter): Promise<WireObject[]> {
    const sql = this.compiled(typeName);
    await this.ready();
    if (!filter) return (await this.reader.rows<Row>(sql.page, [afterId, limit])).map(sql.toWire);
    if (filter.columns.length === 0) return [];
    const key = filter.columns.join(',');
    let query = sql.refPages.get(key);
    if (!query) {
      const any = filter.columns.map((c) => `t.${q(c)} = ?`).join(' OR ');
      query = `${sql.select} WHERE (${any}) AND t.id > ? ORDER BY t.id LIMIT ?`;
      sql.refPages.set(key, query);
    }
    const bindings = [...filter.columns.map(() => filter.id), afterId, limit];
    return (await this.reader.rows<Row>(query, bindings)).map(sql.toWire);
  }

  /**
   * Creates an object and returns its new id. Unknown keys are refused (`No such field
   * <name>`), references are checked (they must exist and have an allowed type).
   */
  async create(typeName: string, input: ObjectInput): Promise<string> {
    const [id] = await this.createMany(typeName, [input]);
    return id;
  }

  /**
   * Creates many objects of one type in one transaction (imports, seeding) and returns
   * their ids in order. Either all are created or none.
   */
  async createMany(typeName: string, inputs: readonly ObjectInput[]): Promise<string[]> {
    const sql = this.compiled(typeName);
    const rows = inputs.map((input) => this.toColumns(sql.type, input));
    await this.ready();
    if (rows.length === 0) return [];
    let created: string[];
    try {
      created = await this.db.transaction(async (trx) => {
        await this.checkReferences(trx, sql.type, rows);
        const ids: string[] = [];
        if (rows.length === 1) {
          ids.push(String(await this.dialect.insertId(trx, this.names.objects, { type: typeName })));
        } else {
          for (let i = 0; i < rows.length; i += 500) {
            const chunk = rows.slice(i, i + 500).map(() => ({ type: typeName }));
            const result = (await trx(this.names.objects).insert(chunk, ['id'])) as Array<{ id: unknown } | number>;
            // Every id row is alike (only the type), so which new id goes to which object does not matter.
            for (const r of result) ids.push(String(typeof r === 'object' ? r.id : r));
          }
        }
        const full = rows.map((row, i) => ({ id: Number(ids[i]), ...row }));
        const perChunk = Math.max(1, Math.floor(900 / (sql.type.fields.length + 1)));
        for (let i = 0; i < full.length; i += perChunk) await trx(this.names.table(typeName)).insert(full.slice(i, i + perChunk));
        return ids;
      });
    } catch (err) {
      // A referenced object deleted between the check and the insert.
      if (this.dialect.isForeignKeyViolation(err)) throw badReference('A referenced object does not exist (it was deleted meanwhile)');
      throw err;
    }
    if (this.events) for (const id of created) this.events.emit('anope.object.created', { type: typeName, id });
    return created;
  }

  /**
   * Sets one field of an object to `value` ('' clears it). Throws 404 `Not found` or
   * `Type/id mismatch`, 400 `No such field`, or 400 for a bad value or reference.
   */
  async update(typeName: string, id: number, fieldName: string, value: string): Promise<void> {
    const sql = this.compiled(typeName);
    const actual = await this.typeOf(id);
    if (actual === undefined) throw notFound();
    if (actual !== typeName) throw mismatch();
    const field = sql.type.byName.get(fieldName);
    if (!field) throw noSuchFieldUpdate();
    const column = this.toColumn(field, value);
    try {
      await this.db.transaction(async (trx) => {
        const row: Record<string, unknown> = { [field.name]: column };
        // Checks the reference and replaces it with the bare id.
        if (column instanceof ReferenceValue) await this.checkReferences(trx, sql.type, [row]);
        const changed = await trx(this.names.table(typeName)).where('id', id).update(row);
        if (changed === 0) throw notFound();
      });
    } catch (err) {
      if (this.dialect.isForeignKeyViolation(err)) throw badReference('A referenced object does not exist (it was deleted meanwhile)');
      throw err;
    }
    this.events?.emit('anope.object.updated', { type: typeName, id: String(id), field: fieldName });
  }

  /**
   * Deletes an object. The database cascades in the same statement: objects referencing it
   * through cascading fields are deleted (recursively), nulling fields are cleared. Throws
   * 404 `Not found` or `Type/id mismatch`.
   */
  async delete(typeName: string, id: number): Promise<void> {
    this.compiled(typeName);
    await this.ready();
    let deleted: number;
    try {
      deleted = await this.db.transaction(async (trx): Promise<number> => {
        // SQLite fires a trigger from within itself (a cascade reaching another object of the
        // same type) only with recursive triggers on; without it such ids would stay behind.
        if (!this.pg) await exec(trx, 'PRAGMA recursive_triggers = ON');
        try {
          return Number(await trx(this.names.table(typeName)).where('id', id).del());
        } finally {
          if (!this.pg) await exec(trx, 'PRAGMA recursive_triggers = OFF');
        }
      });
    } catch (err) {
      // Hundreds of nested cascade levels exceed SQLite's trigger depth or PostgreSQL's
      // stack; the transaction rolled back, so nothing changed.
      if (isTooDeep(err)) throw cascadeTooDeep();
      throw err;
    }
    if (deleted === 0) throw await this.missing(typeName, id);
    this.events?.emit('anope.object.deleted', { type: typeName, id: String(id) });
  }

  /** Counts the objects of a type (CLI, tests). */
  async count(typeName: string): Promise<number> {
    this.compiled(typeName);
    await this.ready();
    const [row] = rowsOf<{ n: unknown }>(await exec(this.db, `SELECT COUNT(*) AS n FROM ${q(this.names.table(typeName))}`));
    return Number(row?.n ?? 0);
  }

  /** Not found or mismatch, for an id that has no row in `typeName`'s table. */
  private async missing(typeName: string, id: number): Promise<Error> {
    const actual = await this.typeOf(id);
    return actual === undefined || actual === typeName ? notFound() : mismatch();
  }

  /** Checks every reference value of `rows`: it exists, and its type is the one written and one the field allows. */
  private async checkReferences(trx: Knex.Transaction, type: AnopeType, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const refFields = type.fields.filter((f) => f.ref);
    if (refFields.length === 0) return;
    const wanted = new Map<number, string>();
    for (const row of rows) {
      for (const f of refFields) {
        const v = row[f.name];
        if (v instanceof ReferenceValue) wanted.set(v.id, v.type);
      }
    }
    if (wanted.size === 0) return;
    const actual = new Map<number, string>();
    const ids = [...wanted.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const found = rowsOf<{ id: unknown; type: string }>(
        await exec(trx, `SELECT id, type FROM ${q(this.names.objects)} WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk),
      );
      for (const r of found) actual.set(Number(r.id), r.type);
    }
    for (const row of rows) {
      for (const f of refFields) {
        const v = row[f.name];
        if (!(v instanceof ReferenceValue)) continue;
        const is = actual.get(v.id);
        if (is === undefined) throw badReference(`Field ${f.name} references ${v.type}:${v.id}, which does not exist`);
        if (is !== v.type) throw badReference(`Field ${f.name} references ${v.type}:${v.id}, but object ${v.id} is a ${is}`);
        if (f.ref !== ANY_TYPE && f.ref !== is) throw badReference(`Field ${f.name} must reference a ${f.ref}, not a ${is}`);
        row[f.name] = v.id;
      }
    }
  }

  /** Converts a create body to column values (references as {@link ReferenceValue}, checked later). */
  private toColumns(type: AnopeType, input: ObjectInput): Record<string, unknown> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badJson(AnopeMessages.notObject);
    const out: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(input)) {
      const field = type.byName.get(name);
      if (!field) throw noSuchFieldNamed(name);
      let value: string | null;
      if (raw === null || raw === undefined) value = null;
      else if (typeof raw === 'string') value = raw;
      else if (typeof raw === 'number' && Number.isFinite(raw)) value = String(raw);
      else if (typeof raw === 'boolean') value = raw ? '1' : '0';
      else throw invalidValue(name, 'expected a string');
      out[name] = this.toColumn(field, value);
    }
    return out;
  }

  /** One value to its column form: null for unset, a {@link ReferenceValue} for references. */
  private toColumn(field: AnopeField, value: string | null): string | ReferenceValue | null {
    if (value === null || value === '') return null;
    if (value.includes('\u0000')) throw invalidValue(field.name, 'it contains a NUL character');
    if (!field.ref) return value;
    const m = REFERENCE.exec(value);
    if (!m) throw badReference(`Field ${field.name} is a reference: write it as type:id`);
    return new ReferenceValue(m[1], Number(m[2]));
  }

  /** The precomputed SQL of a type (built on first use). Throws 404 `Unknown type`. */
  private compiled(typeName: string): TypeSql {
    const cached = this.sql.get(typeName);
    if (cached) return cached;
    const type = this.type(typeName);
    const table = q(this.names.table(type.name));
    const objects = q(this.names.objects);
    const columns = ['t.id AS id', ...type.fields.map((f) => `t.${q(f.name)}`)];
    const joins: string[] = [];
    type.fields.forEach((f, i) => {
      if (f.ref !== ANY_TYPE) return;
      columns.push(`o${i}.type AS ${q(`__t_${f.name}`)}`);
      joins.push(`LEFT JOIN ${objects} o${i} ON o${i}.id = t.${q(f.name)}`);
    });
    const from = `FROM ${table} t${joins.map((j) => ` ${j}`).join('')}`;
    const select = `SELECT ${columns.join(', ')} ${from}`;
    const batchSql = new Map<number, string>();
    const sql: TypeSql = {
      type,
      select,
      columns: columns.join(', '),
      from,
      byId: new IdBatcher<Row & { id: unknown }>((ids) => {
        let text = batchSql.get(ids.length);
        if (!text) batchSql.set(ids.length, (text = `${select} WHERE t.id IN (${ids.map(() => '?').join(', ')})`));
        return this.reader.rows<Row & { id: unknown }>(text, ids);
      }, this.pg ? 4 : 1),
      page: `${select} WHERE t.id > ? ORDER BY t.id LIMIT ?`,
      toWire: wireConverter(type),
      searches: new Map(),
      refPages: new Map(),
    };
    this.sql.set(typeName, sql);
    return sql;
  }
}

/** True for the engines' "cascade nested too deeply" errors. */
function isTooDeep(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '54001' || /too many levels of trigger recursion/i.test(String(e?.message));
}

/** A parsed `type:id` reference awaiting its check. */
class ReferenceValue {
  constructor(
    readonly type: string,
    readonly id: number,
  ) {}
}

/** Builds the row → wire object conversion of a type. */
function wireConverter(type: AnopeType): (row: Row) => WireObject {
  const fields = type.fields.map((f) => ({ name: f.name, ref: f.ref, anyKey: `__t_${f.name}` }));
  return (row) => {
    const out: Array<[string, string]> = [];
    for (const f of fields) {
      const v = row[f.name];
      if (v === null || v === undefined) continue;
      if (f.ref === undefined) out.push([f.name, String(v)]);
      else {
        const target = f.ref === ANY_TYPE ? (row[f.anyKey] as string | null) : f.ref;
        if (target) out.push([f.name, `${target}:${String(v)}`]);
      }
    }
    return { id: String(row.id), fields: out };
  };
}
