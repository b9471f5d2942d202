/**
 * The attempt log: every attempt of every delivery, as operators see it in `outbox show`
 * and the admin API (when, the status received, a short error text, how long it took, which
 * instance made it). Only the newest {@link ATTEMPTS_KEPT} attempts of a delivery are kept,
 * so a delivery retried for days cannot grow the table without bound; the rows go with
 * their delivery (a foreign key with `ON DELETE CASCADE`).
 *
 * On PostgreSQL the outbox logs each attempt here, in the transaction that records its
 * outcome. On SQLite a trigger on the outbox table (kernel migration 005) copies the attempt
 * from the row into the log in the very statement that records the outcome, and the outbox
 * trims the log after; a crash between the two (or a trim that failed) can leave a finished
 * delivery one attempt more, and the next attempt of a retried one trims it again.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../db/dialect.js';
import { knexStatements, ValuesInsert, type SqlStatements, type SqlTransaction } from '../db/statements.js';
import type { AttemptOutcome } from './outbox.js';

/** How many attempts are kept per delivery (the newest ones). */
export const ATTEMPTS_KEPT = 20;
/** The longest error text kept for an attempt. */
export const ATTEMPT_ERROR_MAX = 200;

/** One recorded attempt. */
export interface AttemptRecord {
  /** The attempt number, from 1 (it starts again from 1 after a replay). */
  attempt: number;
  /** When the attempt ended. */
  at: Date;
  /** The receiver's status, when it answered. */
  status: number | null;
  /** A short error text (no URL beyond its origin, no receiver body), when it failed. */
  error: string | null;
  /** How long the attempt took. */
  durationMs: number;
  /** What followed: delivered, retry or dead. */
  outcome: AttemptOutcome['next'];
  /** The instance that made the attempt. */
  instance: string | null;
}

interface AttemptRow {
  outbox_id: number | string;
  attempt: number;
  at: number | string;
  status: number | null;
  error: string | null;
  duration_ms: number;
  outcome: string;
  instance: string | null;
}

/**
 * Shortens an error text for keeping and showing: URLs reduced to their origin (a path or
 * query may carry a token), control characters removed, at most {@link ATTEMPT_ERROR_MAX}
 * characters.
 */
export function sanitizeAttemptError(error: string): string {
  const text = error
    .replace(/\bhttps?:\/\/[^\s'"]+/gi, (url) => {
      try {
        return new URL(url).origin;
      } catch {
        return '<url>';
      }
    })
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim();
  return text.length > ATTEMPT_ERROR_MAX ? `${text.slice(0, ATTEMPT_ERROR_MAX - 1)}…` : text;
}

/** The columns an attempt is inserted with, in the order of {@link insertBindings}. */
const INSERT_COLUMNS = ['outbox_id', 'attempt', 'at', 'status', 'error', 'duration_ms', 'outcome', 'instance'] as const;

/** An instance's id as the log keeps it. */
function loggedInstance(instance: string): string {
  return instance.slice(0, 128);
}

/** The bindings of the insert of `outcomes`, row after row in {@link INSERT_COLUMNS}' order. */
function insertBindings(outcomes: readonly AttemptOutcome[], instance: string): unknown[] {
  const bindings: unknown[] = [];
  const by = loggedInstance(instance);
  for (const outcome of outcomes) {
    bindings.push(
      outcome.id,
      outcome.attempt,
      outcome.at.getTime(),
      outcome.status ?? null,
      outcome.error === undefined ? null : sanitizeAttemptError(outcome.error),
      Math.max(0, Math.round(outcome.durationMs)),
      outcome.next,
      by,
    );
  }
  return bindings;
}

/**
 * The deliveries whose attempts may now pass the kept number. A first attempt that delivered
 * cannot: a new delivery had no attempts logged, and a replayed one was trimmed to one fewer
 * than kept when it was re-queued ({@link AttemptLog.trim}). Every other attempt may.
 */
function idsToTrim(outcomes: readonly AttemptOutcome[]): number[] {
  return [...new Set(outcomes.filter((o) => o.attempt > 1 || o.next !== 'delivered').map((o) => o.id))];
}

/** Reads and writes `swb_outbox_attempts`. */
export class AttemptLog {
  private readonly table: string;
  private readonly statements: SqlStatements;
  private readonly insert: ValuesInsert;

  /**
   * @param knex - the shared database
   * @param tablePrefix - the kernel's table prefix
   */
  constructor(
    private readonly knex: Knex,
    tablePrefix: string,
  ) {
    this.table = `${tablePrefix}outbox_attempts`;
    this.insert = new ValuesInsert(this.table, INSERT_COLUMNS);
    this.statements = knexStatements(knex, dialectOf(knex));
  }

  /**
   * Records one attempt and drops the delivery's attempts beyond the newest {@link ATTEMPTS_KEPT}.
   *
   * @param db - where to write (the outbox passes the transaction that records the outcome)
   */
  async record(outcome: AttemptOutcome, instance: string, db: Knex | SqlStatements = this.statements): Promise<void> {
    await this.recordMany([outcome], instance, db);
  }

  /**
   * Records several attempts (of different deliveries, or several of one, in order) in one
   * insert, then drops each delivery's attempts beyond the newest {@link ATTEMPTS_KEPT} in
   * one statement.
   *
   * @param db - where to write (the outbox passes the transaction that records the outcomes)
   */
  async recordMany(outcomes: readonly AttemptOutcome[], instance: string, db: Knex | SqlStatements = this.statements): Promise<void> {
    if (outcomes.length === 0) return;
    const statements = 'rows' in db ? db : knexStatements(db, dialectOf(db));
    await statements.rows(this.insert.sql(outcomes.length), insertBindings(outcomes, instance));
    await this.trim(idsToTrim(outcomes), ATTEMPTS_KEPT, db);
  }

  /**
   * Records attempts in the transaction `trx` so that a failure to log them undoes nothing
   * else there (the error is rethrown and the transaction goes on): when no delivery can pass
   * the kept number, the insert is the only statement and runs {@link SqlTransaction.alone}
   * (on SQLite, without the two statements of a savepoint); else the insert and the trim run
   * in a savepoint.
   */
  async recordIn(trx: SqlTransaction, outcomes: readonly AttemptOutcome[], instance: string): Promise<void> {
    if (outcomes.length === 0) return;
    if (idsToTrim(outcomes).length > 0) {
      await trx.savepoint((savepoint) => this.recordMany(outcomes, instance, savepoint));
      return;
    }
    await trx.alone(this.insert.sql(outcomes.length), insertBindings(outcomes, instance));
  }

  /**
   * Drops the attempts beyond the newest {@link ATTEMPTS_KEPT} of the deliveries of `outcomes`
   * that can have more: on SQLite, where the outbox table's trigger logs each attempt with its
   * outcome (kernel migration 005), once the outcomes are recorded.
   *
   * @param db - where to write
   */
  async trimFor(db: SqlStatements, outcomes: readonly AttemptOutcome[]): Promise<void> {
    await this.trim(idsToTrim(outcomes), ATTEMPTS_KEPT, db);
  }

  /**
   * Drops the attempts of deliveries `ids` beyond the newest `keep` of each, in one statement.
   *
   * @param db - where to write
   */
  async trim(ids: readonly number[], keep: number = ATTEMPTS_KEPT, db: Knex | SqlStatements = this.statements): Promise<void> {
    if (ids.length === 0) return;
    // Each delivery's attempts ranked newest first (an index seek per delivery); those past
    // the kept number go. Window functions: SQLite 3.25+, PostgreSQL.
    const k = this.knex;
    const ranked = k(this.table)
      .select('id')
      .select(k.raw('ROW_NUMBER() OVER (PARTITION BY outbox_id ORDER BY id DESC) AS newer'))
      .whereIn('outbox_id', ids);
    await run(db, k(this.table)
      .whereIn('outbox_id', ids)
      .whereIn('id', k.select('id').from(ranked.as('ranked')).where('newer', '>', keep))
      .del());
  }

  /** The kept attempts of deliveries, oldest first, by outbox row id. */
  async forDeliveries(ids: readonly number[]): Promise<Map<number, AttemptRecord[]>> {
    const byId = new Map<number, AttemptRecord[]>();
    if (ids.length === 0) return byId;
    const rows = (await this.knex(this.table).whereIn('outbox_id', ids).orderBy('id', 'asc')) as AttemptRow[];
    for (const r of rows) {
      const id = Number(r.outbox_id);
      let list = byId.get(id);
      if (!list) byId.set(id, (list = []));
      list.push({
        attempt: r.attempt,
        at: new Date(Number(r.at)),
        status: r.status,
        error: r.error,
        durationMs: r.duration_ms,
        outcome: r.outcome as AttemptOutcome['next'],
        instance: r.instance,
      });
    }
    return byId;
  }
}

/** Runs a query that Knex built (but did not run) on `db`. */
function run(db: Knex | SqlStatements, query: Knex.QueryBuilder): Promise<unknown[]> {
  const { sql, bindings } = query.toSQL();
  return 'rows' in db ? db.rows(sql, bindings) : knexStatements(db, dialectOf(db)).rows(sql, bindings);
}
