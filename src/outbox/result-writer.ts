/**
 * Group commit of attempt results. Attempts end one by one, but their outcomes are written
 * together: every outcome that arrives while a write is in flight (or within the same turn
 * of the event loop as the first) goes into the next write (a second outcome of the same
 * delivery into the one after: see `nextBatch`), which for each of them records the outcome
 * on its row (only while this instance still holds the claim it made the attempt under: see
 * OutcomeUpdate.attempts), logs the attempt, and gives
 * every lane whose head finished its next delivery as the new head. One write per batch
 * instead of one per delivery: on SQLite its trips to SQLite's thread are the cost of a
 * delivery, on PostgreSQL the round trips are.
 *
 * On PostgreSQL a batch is one transaction: the outcomes, the attempts of those recorded
 * (so that a failure to log never undoes an outcome: see AttemptLog.recordIn), then the
 * lanes' next heads. On SQLite, where one writer runs at a time, the whole batch is one
 * statement ({@link Lanes.finish}): the outcomes and next heads, and the attempts, which the
 * outbox table's trigger copies from the rows it updates into the log. A single statement is
 * atomic, so it needs no transaction (and saves the trips of `BEGIN` and `COMMIT`). The log of
 * a delivery that may have more attempts than are kept is trimmed after.
 *
 * Ordered per lane: a lane's next delivery becomes its head in the very statement or
 * transaction that makes the previous head's outcome durable, so it cannot be attempted
 * before that outcome is; a crash before leaves the previous head claimed, to be attempted
 * again. An operator never sees an outcome without its attempt in the log, unless logging
 * that attempt failed (a failure to log never undoes an outcome; it is logged as an error),
 * or a crash came between a single result's second write and its log entry (see writeBatch).
 *
 * When a batch cannot be written, each of its results is written again on its own, so one
 * failing result holds back no other; one that still fails is reported to its caller (nothing
 * of it was written), and its delivery stays claimed until the claim lapses (then it is
 * attempted again: at least once).
 */
import type { Knex } from 'knex';
import type { Dialect } from '../db/dialect.js';
import { sqliteAutocommit, sqlTransaction, type SqlTransaction } from '../db/statements.js';
import type { Logger } from '../logger.js';
import type { AttemptLog } from './attempt-log.js';
import type { LaneClaim, Lanes, OutboxRow, OutcomeUpdate } from './lanes.js';
import type { AttemptOutcome } from './outbox.js';

/** The result of one attempt, to be written. */
export interface AttemptResultWrite {
  /** The claimed row the attempt was made for. */
  row: OutboxRow;
  /** What to record on it. */
  update: OutcomeUpdate;
  /** The outcome, for the attempt log. */
  outcome: AttemptOutcome;
}

/** What writing a result did. */
export interface ResultWritten {
  /** False when this instance no longer held the claim (another took the delivery over): nothing was written. */
  changed: boolean;
  /** The lane's next delivery, now its head, claimed for this instance (only while the worker runs). */
  following?: OutboxRow;
}

/** The most results written together (one statement on SQLite, one transaction on PostgreSQL). */
export const RESULT_BATCH_MAX = 256;

interface Waiting {
  write: AttemptResultWrite;
  resolve: (written: ResultWritten) => void;
  reject: (err: unknown) => void;
}

/** Writes attempt results in batches: one statement each on SQLite, one transaction each on PostgreSQL. */
export class ResultWriter {
  private queue: Waiting[] = [];
  private draining = false;

  /**
   * @param knex - the shared database
   * @param dialect - its engine (on SQLite, batches are written on the pool's connection directly: see {@link sqlTransaction})
   * @param table - the outbox table
   * @param lanes - the lane statements
   * @param attemptLog - where attempts are logged
   * @param logger - for results that could not be logged or written
   * @param instance - this instance (results are written only where it holds the claim)
   * @param laneClaim - the claim for a lane's next delivery, or undefined while the worker stops (it then becomes `pending`)
   */
  constructor(
    private readonly knex: Knex,
    private readonly dialect: Dialect,
    private readonly table: string,
    private readonly lanes: Lanes,
    private readonly attemptLog: AttemptLog,
    private readonly logger: Logger,
    private readonly instance: string,
    private readonly laneClaim: () => LaneClaim | undefined,
  ) {}

  /** Queues a result for the next batch (a second result of the same delivery, the batch after); resolves once it is durable. */
  write(write: AttemptResultWrite): Promise<ResultWritten> {
    return new Promise<ResultWritten>((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      // The next turn of the event loop: results of attempts that ended in the same turn join.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.nextBatch();
      try {
        const written = await this.writeBatch(batch.map((w) => w.write));
        batch.forEach((w, i) => w.resolve(written[i]));
      } catch (err) {
        if (batch.length === 1) {
          batch[0].reject(err);
          continue;
        }
        this.logger.warn({ err, results: batch.length }, 'outbox could not write a batch of results; writing them one by one');
        for (const w of batch) {
          try {
            w.resolve((await this.writeBatch([w.write]))[0]);
          } catch (one) {
            w.reject(one);
          }
        }
      }
    }
    this.draining = false;
  }

  /**
   * Takes the next batch off the queue: up to {@link RESULT_BATCH_MAX} results, at most one per
   * delivery. Two results for one delivery happen when its claim lapsed during a slow attempt
   * and this instance claimed it again; in one statement, which of the two outcomes is applied
   * would be the database's choice, and with one a retry and the other finished, the lane
   * could be handed on while the delivery stays its head. The later one goes into the next
   * batch, written after this one: once the first has been recorded, which releases the
   * claim, the later one is turned down.
   */
  private nextBatch(): Waiting[] {
    const batch: Waiting[] = [];
    const later: Waiting[] = [];
    const ids = new Set<number>();
    let i = 0;
    for (; i < this.queue.length && batch.length < RESULT_BATCH_MAX; i++) {
      const waiting = this.queue[i];
      const id = Number(waiting.write.row.id);
      if (ids.has(id)) later.push(waiting);
      else {
        ids.add(id);
        batch.push(waiting);
      }
    }
    this.queue = later.length > 0 ? [...later, ...this.queue.slice(i)] : this.queue.slice(i);
    return batch;
  }

  private writeBatch(writes: readonly AttemptResultWrite[]): Promise<ResultWritten[]> {
    if (this.dialect.name !== 'sqlite') return sqlTransaction(this.knex, this.dialect, (trx) => this.recordThenAdvance(trx, writes));
    // One statement records every outcome and logs its attempt: no transaction (see finishThenTrim).
    return sqliteAutocommit(this.knex, async (db) => {
      try {
        return await this.finishThenTrim(db, writes, true);
      } catch (err) {
        // A batch is written again result by result (see drain).
        if (writes.length > 1) throw err;
        // A failure to log never undoes an outcome: the result once more, without its log
        // entry, which is then made on its own (a failure there is logged, not thrown). A crash
        // between the two leaves this outcome without its attempt in the log: only on this
        // path, after a write that failed (whether for the log or not).
        const written = await this.finishThenTrim(db, writes, false);
        if (written[0].changed) await this.logAttempts(db, writes);
        return written;
      }
    });
  }

  /**
   * PostgreSQL: the outcomes (where this instance still holds the claim), then the attempts
   * of those recorded, then the next heads of the lanes whose head finished, each statement
   * seeing what the one before it did.
   */
  private async recordThenAdvance(trx: SqlTransaction, writes: readonly AttemptResultWrite[]): Promise<ResultWritten[]> {
    const updated = new Set((await this.lanes.recordOutcomes(trx, writes, this.instance)).map(Number));
    const recorded = writes.filter((w) => updated.has(Number(w.row.id)));
    if (recorded.length > 0) await this.logAttempts(trx, recorded);
    const finished = recorded.filter((w) => w.outcome.next !== 'retry').map((w) => w.row.ordering_key);
    const claim = this.laneClaim();
    const heads = await this.lanes.advance(trx, finished, claim);
    return this.written(writes, updated, claim ? heads : []);
  }

  /**
   * SQLite (one writer at a time): the outcomes, their attempts (logged by the table's
   * trigger) and the next heads in one statement ({@link Lanes.finish}), which is atomic by
   * itself, whether the batch holds one result or many; then the trim of the log, which may
   * fail or be lost to a crash without harm (the delivery keeps an attempt more).
   *
   * @param logged - false to record the outcomes without their log entries (the trigger logs
   * an attempt only when the update brings the time it ended)
   */
  private async finishThenTrim(db: SqlTransaction, writes: readonly AttemptResultWrite[], logged: boolean): Promise<ResultWritten[]> {
    const claim = this.laneClaim();
    const outcomes = logged ? writes : writes.map((w) => ({ ...w, update: { ...w.update, last_attempt_at: null } }));
    const finished = await this.lanes.finish(db, outcomes, this.instance, claim);
    const updated = new Set(finished.recorded);
    await this.trimAttempts(db, writes.filter((w) => updated.has(Number(w.row.id))));
    return this.written(writes, updated, claim ? finished.heads : []);
  }

  /** Trims the log of deliveries whose outcomes were recorded to the attempts kept. Never throws: the log's length is housekeeping. */
  private async trimAttempts(db: SqlTransaction, writes: readonly AttemptResultWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.attemptLog
      .trimFor(db, writes.map((w) => w.outcome))
      .catch((err: unknown) => this.logger.error({ err, results: writes.length }, 'outbox could not trim the attempt log'));
  }

  /** What each write did: whether its outcome was recorded, and its lane's next delivery when one became the head. */
  private written(writes: readonly AttemptResultWrite[], updated: ReadonlySet<number>, heads: readonly OutboxRow[]): ResultWritten[] {
    const following = new Map(heads.map((h) => [h.ordering_key, h] as const));
    return writes.map((w) => {
      const changed = updated.has(Number(w.row.id));
      const next = changed && w.outcome.next !== 'retry' ? following.get(w.row.ordering_key) : undefined;
      return next ? { changed, following: next } : { changed };
    });
  }

  /**
   * Logs the batch's attempts, apart from the rest of the transaction; when that fails, each
   * on its own, so that an attempt that cannot be logged costs no other its entry. Never
   * throws: a failure to log never undoes an outcome.
   */
  private async logAttempts(trx: SqlTransaction, writes: readonly AttemptResultWrite[]): Promise<void> {
    const log = (outcomes: readonly AttemptOutcome[]) => this.attemptLog.recordIn(trx, outcomes, this.instance);
    try {
      await log(writes.map((w) => w.outcome));
      return;
    } catch (err) {
      if (writes.length === 1) {
        this.logger.error({ err, delivery: writes[0].row.delivery_id }, 'outbox could not record an attempt');
        return;
      }
    }
    for (const w of writes) {
      await log([w.outcome]).catch((err: unknown) => this.logger.error({ err, delivery: w.row.delivery_id }, 'outbox could not record an attempt'));
    }
  }
}
