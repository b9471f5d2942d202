/**
 * The outbox's lanes in SQL: deliveries that share an ordering key form a lane, of which only
 * the head is ever `pending` or `delivering` while the rest wait `queued` behind it. These
 * statements move heads: promote the oldest queued delivery of headless lanes, hand the next
 * delivery of finished lanes straight to a worker, and claim due heads. Each works on many
 * lanes in one statement, and each re-checks the row's own status (and, for a new head, that
 * its lane has none) inside the statement, so concurrent instances can never make two heads.
 */
import type { Knex } from 'knex';
import type { Dialect } from '../db/dialect.js';
import type { SqlStatements } from '../db/statements.js';

/** A row of `swb_outbox` as read back. */
export interface OutboxRow {
  id: number | string;
  delivery_id: string;
  owner: string;
  owner_ref: string | null;
  url: string;
  ordering_key: string;
  headers: string;
  body: Buffer;
  signer: string | null;
  success: string;
  status: string;
  attempts: number;
  failures: number;
  max_attempts: number;
  timeout_ms: number;
  next_attempt_at: number | string;
  created_at: number | string;
  expires_at: number | string;
  finished_at: number | string | null;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: number | string | null;
  last_attempt_ms: number | null;
}

/** Who takes a lane's next delivery straight to `delivering`, and until when. */
export interface LaneClaim {
  /** The instance that claims. */
  instance: string;
  /** When the claim lapses (epoch ms). */
  until: number;
}

/** What an attempt's outcome sets on its row (the claim is released as well). */
export interface OutcomeUpdate {
  /** `pending` (to be retried), `delivered` or `dead`. */
  status: 'pending' | 'delivered' | 'dead';
  /**
   * Attempts made, this one included. The outcome is recorded only while the row still has
   * one fewer: with the instance, that identifies the claim the attempt was made under. An
   * instance whose claim lapsed during a slow attempt may take the delivery again and go on
   * to a later attempt; the first attempt's late result is then turned down.
   */
  attempts: number;
  /** Failed attempts. */
  failures: number;
  /** The status received, if any. */
  last_status: number | null;
  /** The error, if it failed, as the attempt log keeps it (see sanitizeAttemptError). */
  last_error: string | null;
  /**
   * When the attempt ended (epoch ms). On SQLite the outbox table's trigger logs the attempt
   * from the updated row when this is set (kernel migration 005); null records the outcome
   * without logging its attempt (and leaves the row's last attempt unknown).
   */
  last_attempt_at: number | null;
  /** How long the attempt took, in whole ms. */
  last_attempt_ms: number;
  /** When the retry is due (retries only). */
  next_attempt_at?: number;
  /** When it finished (delivered or dead only). */
  finished_at?: number;
}

/** The SQL of one outbox table on one engine. */
export class Lanes {
  /** {@link finish}'s SQL by the number of outcomes. */
  private readonly finishStatements = new Map<number, string>();

  /**
   * @param table - the outbox table
   * @param dialect - the engine's helpers
   */
  constructor(
    private readonly table: string,
    private readonly dialect: Dialect,
  ) {}

  /**
   * Gives each of the lanes `orderingKeys` that has no head its oldest queued delivery as
   * head, in one statement: `pending` (any instance may claim it) or, with `claim`, already
   * `delivering` for that instance (the lane flows on without a poll). Returns the rows that
   * became heads.
   */
  async advance(db: SqlStatements, orderingKeys: readonly string[], claim?: LaneClaim): Promise<OutboxRow[]> {
    const keys = [...new Set(orderingKeys)];
    if (keys.length === 0) return [];
    const t = this.table;
    // Each lane's oldest queued delivery is found by an index seek (ORDER BY id LIMIT 1), not
    // by grouping every queued row: with a backlog behind slow receivers, grouping made each
    // enqueue cost as much as the whole queue.
    const oldest = keys
      .map((_, i) => `SELECT o${i}.id FROM (SELECT q.id FROM ${t} q WHERE q.ordering_key = ? AND q.status = 'queued' ORDER BY q.id LIMIT 1) o${i}`)
      .join(' UNION ALL ');
    const set = claim ? `status = 'delivering', locked_by = ?, locked_until = ?` : `status = 'pending'`;
    return db.rows<OutboxRow>(
      `UPDATE ${t} SET ${set} WHERE ${unindexed('status')} = 'queued'
         AND id IN (${oldest})
         AND NOT EXISTS (SELECT 1 FROM ${t} p WHERE p.ordering_key = ${t}.ordering_key AND p.status IN ('pending', 'delivering'))
         RETURNING ${claim ? '*' : 'id'}`,
      [...(claim ? [claim.instance, claim.until] : []), ...keys],
    );
  }

  /**
   * Claims up to `limit` due lane heads for `claim.instance` in one statement. On PostgreSQL
   * the candidates are locked with `SKIP LOCKED`, and `status = 'pending'` is checked again
   * on each row, so two instances never claim the same delivery.
   */
  async claimDue(db: Knex, limit: number, now: number, claim: LaneClaim): Promise<OutboxRow[]> {
    const t = this.table;
    // The candidates are picked once, in a materialized CTE: as a plain `IN (SELECT … LIMIT n
    // FOR UPDATE SKIP LOCKED)`, PostgreSQL may rescan the subquery for every row it updates,
    // skipping the rows it has just locked each time, and claim far more than `limit`.
    const result = await db.raw(
      `WITH due AS MATERIALIZED (
           SELECT id FROM ${t} WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ? ${this.dialect.skipLockedSql})
         UPDATE ${t} SET status = 'delivering', locked_by = ?, locked_until = ?
         WHERE ${unindexed('status')} = 'pending' AND id IN (SELECT id FROM due)
         RETURNING *`,
      [now, limit, claim.instance, claim.until],
    );
    return this.dialect.rows<OutboxRow>(result);
  }

  /**
   * Records the outcomes of several attempts in one statement (an `UPDATE … FROM` a list of
   * values), each only where `instance` still holds the row's claim for that attempt (see
   * {@link OutcomeUpdate.attempts}); returns the ids updated.
   */
  async recordOutcomes(db: SqlStatements, outcomes: ReadonlyArray<{ row: OutboxRow; update: OutcomeUpdate }>, instance: string): Promise<Array<number | string>> {
    if (outcomes.length === 0) return [];
    const t = this.table;
    // Typed once, in the first row, so PostgreSQL knows every column's type.
    const first =
      '(CAST(? AS bigint), CAST(? AS varchar(16)), CAST(? AS integer), CAST(? AS integer), CAST(? AS integer), CAST(? AS text), CAST(? AS bigint), CAST(? AS integer), CAST(? AS bigint), CAST(? AS bigint))';
    const rest = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
    const values = outcomes.map((_, i) => (i === 0 ? first : rest)).join(', ');
    const params = outcomeBindings(outcomes);
    const updated = await db.rows<{ id: number | string }>(
      `WITH v(${OUTCOME_COLUMNS}) AS (VALUES ${values})
         UPDATE ${t} SET status = v.status, attempts = v.attempts, failures = v.failures, last_status = v.last_status,
           last_error = v.last_error, last_attempt_at = v.last_attempt_at, last_attempt_ms = v.last_attempt_ms,
           next_attempt_at = COALESCE(v.next_attempt_at, ${t}.next_attempt_at),
           finished_at = v.finished_at, locked_by = NULL, locked_until = NULL
         FROM v WHERE ${t}.id = v.id AND ${t}.locked_by = ? AND ${t}.attempts = v.attempts - 1
         RETURNING ${t}.id`,
      [...params, instance],
    );
    return updated.map((r) => r.id);
  }

  /**
   * SQLite only: records the outcomes of several attempts (each only where `instance` still
   * holds the row's claim for that attempt) and gives each lane whose head finished its next
   * delivery as the new head, in one statement: what {@link recordOutcomes} and then {@link advance} do in
   * two. The table's trigger (kernel migration 005) logs each recorded attempt in the same
   * statement. A single statement is atomic without a transaction, so a lane's next head can
   * never exist without its predecessor's outcome, nor an outcome without its attempt in the
   * log, nor the reverse. Returns the ids whose outcome was recorded and the rows that became
   * heads.
   *
   * Only where one writer runs at a time: the statement decides which lanes move on from the
   * database as it was before the statement, which on PostgreSQL another instance may have
   * changed meanwhile (a claim taken over). There the two statements run one after the other.
   */
  async finish(
    db: SqlStatements,
    outcomes: ReadonlyArray<{ row: OutboxRow; update: OutcomeUpdate }>,
    instance: string,
    claim?: LaneClaim,
  ): Promise<{ recorded: number[]; heads: OutboxRow[] }> {
    if (outcomes.length === 0) return { recorded: [], heads: [] };
    const rows = await db.rows<OutboxRow>(
      this.finishSql(outcomes.length),
      [...outcomeBindings(outcomes), instance, claim ? 'delivering' : 'pending', claim?.instance ?? null, claim?.until ?? null, instance],
    );
    const finishing = new Set(outcomes.map(({ row }) => Number(row.id)));
    const recorded: number[] = [];
    const heads: OutboxRow[] = [];
    for (const row of rows) {
      if (finishing.has(Number(row.id))) recorded.push(Number(row.id));
      else heads.push(row);
    }
    return { recorded, heads };
  }

  /** The statement of {@link finish} for `count` outcomes, built once per count (a batch holds at most a few hundred). */
  private finishSql(count: number): string {
    let sql = this.finishStatements.get(count);
    if (sql !== undefined) return sql;
    const t = this.table;
    const values = Array.from({ length: count }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    // `mine`: the outcomes whose claim this instance still holds, for that attempt. `heads`:
    // for each of those that finished, its lane's oldest queued delivery, unless the lane has
    // another head. `u`: both, as the rows to update (head = 1 for a new head). Each is
    // materialized, so all of it is decided before the first row changes.
    sql = `WITH v(${OUTCOME_COLUMNS}) AS (VALUES ${values}),
       mine AS MATERIALIZED (
         SELECT v.*, o.ordering_key AS lane FROM v JOIN ${t} o ON o.id = v.id WHERE o.locked_by = ? AND o.attempts = v.attempts - 1),
       heads AS MATERIALIZED (
         SELECT (SELECT q.id FROM ${t} q WHERE q.ordering_key = m.lane AND q.status = 'queued' ORDER BY q.id LIMIT 1) AS id
         FROM mine m
         WHERE m.status <> 'pending'
           AND NOT EXISTS (SELECT 1 FROM ${t} p WHERE p.ordering_key = m.lane AND p.status IN ('pending', 'delivering') AND p.id NOT IN (SELECT id FROM mine))),
       u(id, head, ${OUTCOME_FIELDS}) AS MATERIALIZED (
         SELECT id, 0, ${OUTCOME_FIELDS} FROM mine
         UNION ALL SELECT id, 1, ?, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM heads WHERE id IS NOT NULL)
     UPDATE ${t} SET status = u.status,
       attempts = CASE u.head WHEN 1 THEN ${t}.attempts ELSE u.attempts END,
       failures = CASE u.head WHEN 1 THEN ${t}.failures ELSE u.failures END,
       last_status = CASE u.head WHEN 1 THEN ${t}.last_status ELSE u.last_status END,
       last_error = CASE u.head WHEN 1 THEN ${t}.last_error ELSE u.last_error END,
       last_attempt_at = CASE u.head WHEN 1 THEN ${t}.last_attempt_at ELSE u.last_attempt_at END,
       last_attempt_ms = CASE u.head WHEN 1 THEN ${t}.last_attempt_ms ELSE u.last_attempt_ms END,
       next_attempt_at = COALESCE(u.next_attempt_at, ${t}.next_attempt_at),
       finished_at = CASE u.head WHEN 1 THEN ${t}.finished_at ELSE u.finished_at END,
       locked_by = CASE u.head WHEN 1 THEN ? END,
       locked_until = CASE u.head WHEN 1 THEN ? END
     FROM u WHERE ${t}.id = u.id
       AND CASE u.head WHEN 1 THEN (${t}.status || '') = 'queued' ELSE ${t}.locked_by = ? AND ${t}.attempts = u.attempts - 1 END
     RETURNING *`;
    this.finishStatements.set(count, sql);
    return sql;
  }

  /** Makes deliveries whose claim lapsed (their instance died mid-attempt) due again. */
  async releaseLapsedClaims(db: Knex, now: number): Promise<void> {
    await db(this.table).where('status', 'delivering').andWhere('locked_until', '<', now).update({ status: 'pending', locked_by: null, locked_until: null });
  }
}

/** What an outcome sets on its row: the columns of the outcomes' `VALUES` rows after the id. */
const OUTCOME_FIELDS = 'status, attempts, failures, last_status, last_error, last_attempt_at, last_attempt_ms, next_attempt_at, finished_at';
/** The columns of the outcomes' `VALUES` rows, in the order of {@link outcomeBindings}. */
const OUTCOME_COLUMNS = `id, ${OUTCOME_FIELDS}`;

/** The bindings of the outcomes' `VALUES` rows, in {@link OUTCOME_COLUMNS}' order. */
function outcomeBindings(outcomes: ReadonlyArray<{ row: OutboxRow; update: OutcomeUpdate }>): unknown[] {
  return outcomes.flatMap(({ row, update: u }) => [
    Number(row.id),
    u.status,
    u.attempts,
    u.failures,
    u.last_status,
    u.last_error,
    u.last_attempt_at,
    u.last_attempt_ms,
    u.next_attempt_at ?? null,
    u.finished_at ?? null,
  ]);
}

/**
 * The column as an expression no index can serve, so the planner drives these updates from
 * their small id subquery instead of scanning every row with that status; the row's own
 * status is still re-checked (what makes concurrent claims and promotions safe).
 */
export function unindexed(column: string): string {
  return `(${column} || '')`;
}
