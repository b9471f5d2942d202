/**
 * Searches on one field of one type, with concurrent searches coalesced into one query.
 *
 * A search answers the first object (lowest id) whose field equals a value. Alone it is one
 * indexed `… WHERE field = ? ORDER BY t.id LIMIT 1`; under load, every search would wait its
 * turn for SQLite's one connection. So searches go through the kernel's
 * {@link BatchedLookup}: the first runs at once, and those that arrive while it runs are
 * answered together by the next query, which is one `LIMIT 1` branch per value joined with
 * `UNION ALL` (each branch still reads one index entry, so a value with a million matches
 * costs what a unique one does). Each branch carries its position, so rows map back to
 * values without comparing them again in JavaScript (SQLite's `lower()` is not JavaScript's).
 *
 * Batches are padded to a power of two (repeating the first value), so a field has at most a
 * handful of query texts, and so a bounded set of prepared statements.
 */
import { BatchedLookup } from '../../src/index.js';
import type { RowReader } from './row-reader.js';
import { q } from './sql.js';

/** Most values per query. */
const MAX_SEARCH_BATCH = 64;

/** The column that numbers a branch of a batched search. */
const BRANCH = '__k';

type Row = Record<string, unknown>;

/** Finds the first row per value on one field, batching concurrent searches. */
export class FieldSearch {
  private readonly lookup: BatchedLookup<unknown, Row>;
  private readonly texts = new Map<number, string>();

  /**
   * @param reader - runs the queries
   * @param columns - the select list of the type's rows (`t.id AS id, t."name", …`)
   * @param from - the `FROM … t` clause with the type's joins
   * @param where - the condition on `t`, with one `?` for the value
   */
  constructor(
    private readonly reader: RowReader,
    private readonly columns: string,
    private readonly from: string,
    private readonly where: string,
  ) {
    this.lookup = new BatchedLookup<unknown, Row>({ load: (values) => this.load(values), maxBatch: MAX_SEARCH_BATCH });
  }

  /** The first row (lowest id) whose field matches `value`, or undefined. */
  first(value: unknown): Promise<Row | undefined> {
    return this.lookup.get(value);
  }

  private async load(values: readonly unknown[]): Promise<ReadonlyMap<unknown, Row>> {
    let size = 1;
    while (size < values.length) size *= 2;
    const bindings = Array.from({ length: size }, (_, i) => values[i < values.length ? i : 0]);
    const rows = await this.reader.rows<Row>(this.text(size), bindings);
    const found = new Map<unknown, Row>();
    for (const row of rows) {
      const branch = Number(row[BRANCH]);
      if (branch < values.length) found.set(values[branch], row);
    }
    return found;
  }

  /** The query for `size` values. */
  private text(size: number): string {
    let text = this.texts.get(size);
    if (!text) {
      const branch = (i: number) => `SELECT * FROM (SELECT ${i} AS ${q(BRANCH)}, ${this.columns} ${this.from} WHERE ${this.where} ORDER BY t.id LIMIT 1) s${i}`;
      text = Array.from({ length: size }, (_, i) => branch(i)).join(' UNION ALL ');
      this.texts.set(size, text);
    }
    return text;
  }
}
