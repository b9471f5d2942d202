/**
 * The durable outbox: one kernel service through which every family calls out (Owncast
 * webhooks, Nextcloud Talk bot deliveries).
 *
 * A delivery is a row in `swb_outbox`, written in the caller's transaction when it passes
 * one, so a domain change and its webhook commit together. Deliveries that share an
 * ordering key (the URL by default) form a lane: only the lane's head is ever `pending` or
 * `delivering`, the rest wait `queued` behind it, so a receiver sees its events in order.
 * A worker claims due heads (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several instances
 * can share the table), POSTs them with a timeout, and either finishes them or schedules a
 * retry with exponential backoff and jitter (honouring `Retry-After`), until the maximum
 * attempts or age sends them to the dead-letter state, from which they can be re-queued.
 * Every attempt's outcome reaches the owning plugin. A restart resumes where it stopped.
 */
import type { Knex } from 'knex';
import { dialectOf, type Dialect } from '../db/dialect.js';
import { knexStatements, sqlTransaction, transactionStatements, type SqlStatements } from '../db/statements.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../logger.js';
import { contextWithSpan } from '../observability/request-span.js';
import { endAttemptSpan, startAttemptSpan } from '../observability/outbox-span.js';
import { attemptDelivery, createDeliveryAgents, type AttemptResult, type DeliveryAgents } from './attempt.js';
import { AttemptLog, ATTEMPTS_KEPT, sanitizeAttemptError } from './attempt-log.js';
import { Lanes, type OutboxRow, type OutcomeUpdate } from './lanes.js';
import { ResultWriter } from './result-writer.js';
import { UrlPolicy, type UrlPolicyOptions } from './url-policy.js';
import { insertDeliveries, lowerKeys, newDeliveryRow, type DeliveryInput, type NewDeliveryRow } from './new-deliveries.js';

export type { DeliveryInput, SuccessRule } from './new-deliveries.js';

/** Settings of the outbox (standalone config: `webhooks:`). */
export interface OutboxOptions extends UrlPolicyOptions {
  /** Attempts in flight at once, across all receivers (default 16). */
  concurrency?: number;
  /** Per-attempt timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Attempts before a delivery is dead (default 10). */
  maxAttempts?: number;
  /** Age in ms after which a failing delivery is dead (default 24 hours). */
  maxAgeMs?: number;
  /** First retry delay in ms; doubles each attempt (default 1000). */
  backoffBaseMs?: number;
  /** Longest retry delay in ms (default 5 minutes). */
  backoffMaxMs?: number;
  /** How often the worker looks for due work when idle, in ms (default 500). */
  pollIntervalMs?: number;
  /** How long delivered rows are kept, in ms (default 24 hours). */
  retentionMs?: number;
  /**
   * How long a claim outlives its attempt's timeout, in ms (default 30 000). A delivery
   * claimed by an instance that dies mid-attempt is taken over by another instance once
   * `timeoutMs + claimMarginMs` have passed since the claim; a shorter margin hands work
   * over sooner, at the risk of a second attempt while a slow first one is still finishing.
   */
  claimMarginMs?: number;
}


/** What a signer sees. */
export interface SignerInput {
  /** The exact bytes that will be sent. */
  body: Buffer;
  /** The stable delivery id (also sent as `X-Switchboard-Delivery`). */
  deliveryId: string;
  /** The target URL. */
  url: string;
  /** The attempt number, from 1. */
  attempt: number;
  /** The owner's reference given at enqueue (e.g. `bot:12`), to find the signing key. */
  ownerRef: string | null;
}

/** Returns headers to add to an attempt (e.g. a signature); may be asynchronous (to look up a key). */
export type Signer = (input: SignerInput) => Record<string, string> | Promise<Record<string, string>>;

/** The outcome of one attempt, as reported to the owner. */
export interface AttemptOutcome {
  /** Outbox row id. */
  id: number;
  /** Stable delivery id. */
  deliveryId: string;
  /** Owning plugin. */
  owner: string;
  /** The owner's reference. */
  ownerRef: string | null;
  /** Target URL. */
  url: string;
  /** Attempt number, from 1. */
  attempt: number;
  /** True when the receiver's answer counts as success. */
  ok: boolean;
  /** The receiver's status, when it answered. */
  status?: number;
  /** The error text, when it did not answer or answered with a failing status. */
  error?: string;
  /** What happens next: delivered, retried later, or dead. */
  next: 'delivered' | 'retry' | 'dead';
  /** When the attempt ended. */
  at: Date;
  /** How long it took. */
  durationMs: number;
}

/** Counts of deliveries by state. */
export interface OutboxStats {
  /** Waiting: due now, scheduled for a retry, or queued behind an earlier delivery. */
  pending: number;
  /** Being attempted now. */
  delivering: number;
  /** Delivered (kept for the retention period). */
  delivered: number;
  /** Pending deliveries that have failed at least once. */
  failed: number;
  /** Given up; can be re-queued. */
  dead: number;
}

/** A dead delivery, as listed for re-queueing. */
export interface DeadDelivery {
  /** Outbox row id. */
  id: number;
  /** Stable delivery id. */
  deliveryId: string;
  /** Owning plugin. */
  owner: string;
  /** The owner's reference. */
  ownerRef: string | null;
  /** Target URL. */
  url: string;
  /** Attempts made. */
  attempts: number;
  /** The last status received, if any. */
  lastStatus: number | null;
  /** The last error. */
  lastError: string | null;
  /** When it was enqueued. */
  createdAt: Date;
  /** When it was given up. */
  finishedAt: Date | null;
}

/** What enqueueing returns. */
export interface EnqueuedDelivery {
  /** The outbox row id (for {@link OwnerOutbox.requeue}). */
  id: number;
  /** The stable delivery id, sent as `X-Switchboard-Delivery`. */
  deliveryId: string;
}

/** The outbox as one plugin sees it (`ctx.outbox`): its own deliveries only. */
export interface OwnerOutbox {
  /** Enqueues a delivery, in `trx` when given. Throws `SWB_ERR_URL_NOT_ALLOWED` for a refused URL. */
  enqueue(input: DeliveryInput, options?: { trx?: Knex.Transaction }): Promise<EnqueuedDelivery>;
  /** Enqueues several deliveries in one statement (e.g. one event to every webhook); all or none. */
  enqueueMany(inputs: readonly DeliveryInput[], options?: { trx?: Knex.Transaction }): Promise<EnqueuedDelivery[]>;
  /** Registers a named signer for this owner's deliveries. */
  registerSigner(name: string, signer: Signer): void;
  /** Calls `listener` after each attempt of this owner's deliveries; returns an unsubscribe function. */
  onAttempt(listener: (outcome: AttemptOutcome) => void | Promise<void>): () => void;
  /** Checks a URL against the policy now (for validating user input); throws `SWB_ERR_URL_NOT_ALLOWED`. */
  checkUrl(url: string): Promise<void>;
  /** Counts of this owner's deliveries. */
  stats(): Promise<OutboxStats>;
  /** This owner's dead deliveries. */
  dead(limit?: number): Promise<DeadDelivery[]>;
  /** Puts a dead delivery of this owner back in its lane; true when it was dead. */
  requeue(id: number): Promise<boolean>;
  /**
   * Drops this owner's deliveries with `ownerRef` that are not being attempted right now
   * (e.g. a webhook was deleted); returns how many were dropped.
   */
  cancel(ownerRef: string): Promise<number>;
}

/** How often lanes are checked for a lost head and old rows are removed (ms). */
const SWEEP_INTERVAL_MS = 30_000;
/** Default extra time a claim holds a row beyond the attempt timeout before another instance may take it. */
const CLAIM_MARGIN_MS = 30_000;

/** The kernel's outbox service. */
export class Outbox {
  private readonly policy: UrlPolicy;
  private readonly dialect: Dialect;
  private readonly table: string;
  private readonly settings: Required<Omit<OutboxOptions, 'allow' | 'deny'>>;
  private readonly signers = new Map<string, Signer>();
  private readonly listeners = new Map<string, Set<(o: AttemptOutcome) => void | Promise<void>>>();
  /**
   * The attempts in flight. Not keyed by delivery: when a delivery's claim lapses during a slow
   * attempt, the worker may take it again while that attempt still runs, and stop waits for both.
   */
  private readonly inflight = new Set<Promise<void>>();
  private running = false;
  private loopDone?: Promise<void>;
  private wakeUp?: () => void;
  private abort = new AbortController();
  private agents?: DeliveryAgents;
  private lastSweep = 0;
  private lastLapseCheck = 0;
  /** A wake-up asked for while the worker was not asleep: its next sleep is skipped. */
  private wakeRequested = false;
  /** The last claim took as many deliveries as it could: more may be due when a slot frees. */
  private saturated = false;
  private readonly lanes: Lanes;
  private readonly results: ResultWriter;
  /** Every attempt, kept for operators (the newest few per delivery). */
  readonly attemptLog: AttemptLog;

  /**
   * @param knex - the shared database
   * @param tablePrefix - the kernel's table prefix
   * @param events - where `outbox.attempt` events go
   * @param logger - the outbox's logger
   * @param instanceId - this instance, recorded on claimed rows
   * @param options - settings
   */
  constructor(
    private readonly knex: Knex,
    tablePrefix: string,
    private readonly events: EventBus,
    private readonly logger: Logger,
    private readonly instanceId: string,
    options: OutboxOptions = {},
  ) {
    this.policy = new UrlPolicy(options);
    this.dialect = dialectOf(knex);
    this.table = `${tablePrefix}outbox`;
    this.attemptLog = new AttemptLog(knex, tablePrefix);
    this.lanes = new Lanes(this.table, this.dialect);
    this.results = new ResultWriter(knex, this.dialect, this.table, this.lanes, this.attemptLog, logger, instanceId, () => (this.running ? this.laneClaim() : undefined));
    this.settings = {
      concurrency: options.concurrency ?? 16,
      timeoutMs: options.timeoutMs ?? 5000,
      maxAttempts: options.maxAttempts ?? 10,
      maxAgeMs: options.maxAgeMs ?? 24 * 60 * 60 * 1000,
      backoffBaseMs: options.backoffBaseMs ?? 1000,
      backoffMaxMs: options.backoffMaxMs ?? 5 * 60 * 1000,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      retentionMs: options.retentionMs ?? 24 * 60 * 60 * 1000,
      claimMarginMs: options.claimMarginMs ?? CLAIM_MARGIN_MS,
    };
  }

  /** The URL policy in force. */
  get urlPolicy(): UrlPolicy {
    return this.policy;
  }

  /** The outbox as seen by one owner (plugin). */
  forOwner(owner: string): OwnerOutbox {
    return {
      enqueue: async (input, options) => (await this.enqueueMany(owner, [input], options))[0],
      enqueueMany: (inputs, options) => this.enqueueMany(owner, inputs, options),
      registerSigner: (name, signer) => {
        this.signers.set(`${owner}:${name}`, signer);
      },
      onAttempt: (listener) => {
        let set = this.listeners.get(owner);
        if (!set) this.listeners.set(owner, (set = new Set()));
        set.add(listener);
        return () => set!.delete(listener);
      },
      checkUrl: async (url) => {
        await this.policy.check(url);
      },
      stats: () => this.stats(owner),
      dead: (limit) => this.dead(owner, limit),
      requeue: (id) => this.requeue(id, owner),
      cancel: (ownerRef) => this.cancel(owner, ownerRef),
    };
  }

  /**
   * Enqueues deliveries for `owner`: in the caller's transaction `trx` when given (they are
   * queued when it commits), else in one of their own. Lanes without a head are promoted.
   */
  async enqueueMany(owner: string, inputs: readonly DeliveryInput[], options: { trx?: Knex.Transaction } = {}): Promise<EnqueuedDelivery[]> {
    if (inputs.length === 0) return [];
    // Once per distinct URL, and without DNS (this may run in the caller's transaction): a
    // host name's addresses are checked when each attempt connects.
    for (const url of new Set(inputs.map((input) => input.url))) this.policy.checkWithoutLookup(url);
    const now = Date.now();
    const rows = inputs.map((input) => newDeliveryRow(owner, input, this.settings, now));
    const keys = [...new Set(rows.map((r) => r.ordering_key))];
    const { trx } = options;
    if (this.dialect.name === 'sqlite') {
      // SQLite has one writer at a time (its write lock is held from the first write to the
      // commit), so no lane head can finish concurrently: promoting in the same transaction
      // is safe and saves one. Its statements run on the connection directly (see
      // src/db/statements.ts). A lane that already had a head needs no wake-up: the head's
      // result hands the lane on.
      const write = async (db: SqlStatements) => ({ ids: await insertDeliveries(db, this.table, rows), promoted: await this.promote(keys, db) });
      if (trx) {
        const { ids, promoted } = await write(await transactionStatements(trx, this.dialect));
        if (promoted) void trx.executionPromise.then(() => this.wake(), () => undefined);
        return this.enqueued(rows, ids);
      }
      const { ids, promoted } = await sqlTransaction(this.knex, this.dialect, write);
      if (promoted) this.wake();
      return this.enqueued(rows, ids);
    }
    // PostgreSQL: promote after commit. Inside an uncommitted transaction the promotion could
    // race with the lane's head finishing on another connection and leave the lane headless.
    const afterCommit = () => this.promote(keys).then((promoted) => promoted && this.wake(), (err) => this.logger.error({ err }, 'outbox promote failed'));
    if (trx) {
      const ids = await insertDeliveries(knexStatements(trx, this.dialect), this.table, rows);
      void trx.executionPromise.then(afterCommit, () => undefined);
      return this.enqueued(rows, ids);
    }
    const ids = await sqlTransaction(this.knex, this.dialect, (tx) => insertDeliveries(tx, this.table, rows));
    await afterCommit();
    return this.enqueued(rows, ids);
  }

  private enqueued(rows: readonly NewDeliveryRow[], ids: readonly number[]): EnqueuedDelivery[] {
    return rows.map((r, i) => ({ id: ids[i], deliveryId: r.delivery_id }));
  }

  /** Gives headless lanes among `orderingKeys` their oldest queued delivery as a `pending` head; true when one got a head. */
  private async promote(orderingKeys: readonly string[], db: SqlStatements = knexStatements(this.knex, this.dialect)): Promise<boolean> {
    return (await this.lanes.advance(db, orderingKeys)).length > 0;
  }

  /** Repairs lanes left without a head (a crash between commit and promotion) and drops old delivered rows. */
  private async sweep(): Promise<void> {
    const t = this.table;
    const heads = await this.knex(t).where('status', 'queued').distinct('ordering_key').whereNotExists(function () {
      this.select(1).from(`${t} as p`).whereRaw(`p.ordering_key = ${t}.ordering_key`).whereIn('p.status', ['pending', 'delivering']);
    });
    await this.promote((heads as Array<{ ordering_key: string }>).map((h) => h.ordering_key));
    await this.knex(t).where('status', 'delivered').andWhere('finished_at', '<', Date.now() - this.settings.retentionMs).del();
    this.lastSweep = Date.now();
  }

  /** Starts the delivery worker (the kernel calls this at start); resolves once deliveries cut by a crash are due again (SQLite). */
  startWorker(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.abort = new AbortController();
    this.agents = createDeliveryAgents();
    // Resolves once deliveries cut by a crash are due again, before the worker takes any: a
    // start that returned earlier could see that recovery take back a delivery another worker
    // (of this or another kernel on the same file) had claimed meanwhile, and send it twice.
    const recovered = this.recoverCrashedAttempts();
    this.loopDone = recovered.then(() => this.loop());
    return recovered;
  }

  /**
   * SQLite serves one instance, so a delivery still marked in flight when the worker starts
   * was cut by a crash: it is due again at once instead of after its claim expires.
   * (On PostgreSQL another instance may really be attempting it; its claim must run out.)
   */
  private async recoverCrashedAttempts(): Promise<void> {
    if (this.dialect.name !== 'sqlite') return;
    try {
      await this.knex(this.table).where('status', 'delivering').update({ status: 'pending', locked_by: null, locked_until: null, next_attempt_at: Date.now() });
    } catch (err) {
      this.logger.error({ err }, 'outbox could not recover deliveries cut by a crash');
    }
  }

  /** Nudges the worker to look for due work now. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    if (w) w();
    else this.wakeRequested = true;
  }

  /** The claim this instance puts on a delivery it takes now. */
  private laneClaim(): { instance: string; until: number } {
    return { instance: this.instanceId, until: Date.now() + this.settings.timeoutMs + this.settings.claimMarginMs };
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        if (Date.now() - this.lastSweep > SWEEP_INTERVAL_MS) await this.sweep();
        const free = this.settings.concurrency - this.inflight.size;
        if (free > 0) {
          this.wakeRequested = false;
          const rows = await this.claim(free);
          claimed = rows.length;
          this.saturated = claimed === free;
          for (const row of rows) this.launch(row);
        }
      } catch (err) {
        if (!this.running) break;
        this.logger.error({ err }, 'outbox worker failed to claim work');
      }
      if (!this.running) break;
      if (claimed === 0 || this.inflight.size >= this.settings.concurrency) await this.sleep(this.settings.pollIntervalMs);
    }
  }

  /** Claims up to `limit` due lane heads for this instance (after releasing lapsed claims, at most once per poll interval). */
  private async claim(limit: number): Promise<OutboxRow[]> {
    const now = Date.now();
    if (now - this.lastLapseCheck >= this.settings.pollIntervalMs) {
      await this.lanes.releaseLapsedClaims(this.knex, now);
      this.lastLapseCheck = now;
    }
    return this.lanes.claimDue(this.knex, limit, now, this.laneClaim()!);
  }

  private launch(row: OutboxRow): void {
    const attempt: Promise<void> = this.deliver(row)
      .catch((err) => this.logger.error({ err, delivery: row.delivery_id }, 'outbox delivery failed unexpectedly'))
      .finally(() => {
        this.inflight.delete(attempt);
        // A freed slot matters only when due work was left unclaimed for want of one.
        if (this.saturated) this.wake();
      });
    this.inflight.add(attempt);
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const span = startAttemptSpan(row.owner, row.url, row.attempts + 1);
    let outcome: AttemptOutcome | undefined;
    try {
      outcome = await contextWithSpan(span, () => this.attempt(row));
    } finally {
      endAttemptSpan(span, outcome?.next, outcome?.status);
    }
    if (!outcome) return;
    // The lane's next delivery, launched by the attempt, sends its POST in a tick to come: the
    // report waits for the next turn of the event loop so that the POST goes out first (a
    // lane's reports still come in its order: the next attempt cannot end in this turn).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.report(outcome);
  }

  /** Makes one attempt and records it; returns its outcome (undefined when cut short by stop or taken over). */
  private async attempt(row: OutboxRow): Promise<AttemptOutcome | undefined> {
    const attempt = row.attempts + 1;
    const body = Buffer.isBuffer(row.body) ? row.body : Buffer.from(row.body as unknown as string);
    const headers = JSON.parse(row.headers) as Record<string, string>;
    let result: AttemptResult;
    const signer = row.signer ? this.signers.get(`${row.owner}:${row.signer}`) : undefined;
    if (row.signer && !signer) {
      result = { error: `signer '${row.signer}' of '${row.owner}' is not registered`, durationMs: 0 };
    } else {
      try {
        if (signer) Object.assign(headers, lowerKeys(await signer({ body, deliveryId: row.delivery_id, url: row.url, attempt, ownerRef: row.owner_ref })));
        result = await attemptDelivery(new URL(row.url), headers, body, row.timeout_ms, this.policy, this.abort.signal, this.agents);
      } catch (err) {
        result = { error: err instanceof Error ? err.message : String(err), durationMs: 0 };
      }
    }
    if (this.abort.signal.aborted && result.status === undefined) {
      // Cut short by stop(): not an attempt. It stays in its lane and resumes after restart.
      await this.unclaim(row);
      return undefined;
    }
    const ok = result.status !== undefined && isSuccess(row.success, result.status);
    const now = Date.now();
    const error = ok ? undefined : (result.error ?? `UnexpectedStatusCode: ${result.status}`);
    let next: AttemptOutcome['next'];
    if (ok) next = 'delivered';
    else if (result.refused || attempt >= row.max_attempts || now >= Number(row.expires_at)) next = 'dead';
    else next = 'retry';
    const update: OutcomeUpdate = {
      status: next === 'retry' ? 'pending' : next,
      attempts: attempt,
      failures: ok ? row.failures : row.failures + 1,
      last_status: result.status ?? null,
      last_error: error === undefined ? null : sanitizeAttemptError(error),
      last_attempt_at: now,
      last_attempt_ms: Math.max(0, Math.round(result.durationMs)),
      ...(next === 'retry' ? { next_attempt_at: now + Math.max(this.backoff(attempt), result.retryAfterMs ?? 0) } : { finished_at: now }),
    };
    const outcome: AttemptOutcome = {
      id: Number(row.id),
      deliveryId: row.delivery_id,
      owner: row.owner,
      ownerRef: row.owner_ref,
      url: row.url,
      attempt,
      ok,
      ...(result.status !== undefined ? { status: result.status } : {}),
      ...(error ? { error } : {}),
      next,
      at: new Date(now),
      durationMs: result.durationMs,
    };
    // The outcome, its attempt's log entry and the lane's next head are written together
    // (with the results of other attempts that ended meanwhile: group commit; see
    // result-writer.ts), so an operator never sees a delivery dead or delivered without its
    // last attempt, and a lane's next delivery is never attempted before its predecessor's
    // outcome is durable.
    const written = await this.results.write({ row, update, outcome });
    if (!written.changed) {
      // Our claim expired and another instance took the delivery over; it reports instead.
      this.logger.warn({ delivery: row.delivery_id }, 'delivery claim expired during the attempt');
      return undefined;
    }
    if (written.following) {
      // stop() may have begun while the result was written: then the next delivery goes back, unattempted.
      if (this.running) this.launch(written.following);
      else await this.unclaim(written.following);
    }
    if (next === 'dead') this.logger.warn({ delivery: row.delivery_id, owner: row.owner, attempts: attempt, error }, 'delivery is dead after its last attempt');
    return outcome;
  }

  /** Gives a claimed delivery back, unattempted: due now, for any instance. */
  private async unclaim(row: OutboxRow): Promise<void> {
    await this.knex(this.table).where({ id: row.id, locked_by: this.instanceId }).update({ status: 'pending', locked_by: null, locked_until: null, next_attempt_at: Date.now() });
  }

  private async report(outcome: AttemptOutcome): Promise<void> {
    for (const listener of this.listeners.get(outcome.owner) ?? []) {
      try {
        await listener(outcome);
      } catch (err) {
        this.logger.error({ err, owner: outcome.owner }, 'outbox attempt listener failed');
      }
    }
    this.events.emit('outbox.attempt', outcome);
  }

  /** Exponential backoff with jitter: base·2^(n-1), capped, then a random 50–100 % of it. */
  private backoff(attempt: number): number {
    const exp = Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  /**
   * Stops the worker: no new claims; attempts in flight get until `timeoutMs` to finish,
   * then are cut and left pending (not lost, not counted as attempts).
   */
  async stopWorker(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loopDone;
    // Attempts finishing now may still add their lane's next delivery: wait until none is left.
    const all = async () => {
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.abort.abort();
      await all();
    }
    // Kept-alive connections to receivers are closed: nothing of the worker outlives stop().
    this.agents?.http.destroy();
    this.agents?.https.destroy();
    this.agents = undefined;
  }

  /** Counts of deliveries by state, for one owner or all. */
  async stats(owner?: string): Promise<OutboxStats> {
    const q = this.knex(this.table).select('status').count({ n: '*' }).groupBy('status');
    const failedQ = this.knex(this.table).count({ n: '*' }).whereIn('status', ['pending', 'queued']).andWhere('failures', '>', 0);
    if (owner) {
      q.where('owner', owner);
      failedQ.andWhere('owner', owner);
    }
    const [rows, failed] = await Promise.all([q, failedQ]);
    const by = Object.fromEntries((rows as Array<{ status: string; n: number | string }>).map((r) => [r.status, Number(r.n)]));
    return {
      pending: (by.pending ?? 0) + (by.queued ?? 0),
      delivering: by.delivering ?? 0,
      delivered: by.delivered ?? 0,
      failed: Number((failed[0] as { n: number | string }).n),
      dead: by.dead ?? 0,
    };
  }

  /** Dead deliveries, newest first, for one owner or all. */
  async dead(owner?: string, limit = 100): Promise<DeadDelivery[]> {
    const q = this.knex(this.table).where('status', 'dead').orderBy('id', 'desc').limit(limit);
    if (owner) q.andWhere('owner', owner);
    const rows = (await q) as OutboxRow[];
    return rows.map((r) => ({
      id: Number(r.id),
      deliveryId: r.delivery_id,
      owner: r.owner,
      ownerRef: r.owner_ref,
      url: r.url,
      attempts: r.attempts,
      lastStatus: r.last_status,
      lastError: r.last_error,
      createdAt: new Date(Number(r.created_at)),
      finishedAt: r.finished_at === null ? null : new Date(Number(r.finished_at)),
    }));
  }

  /** Drops `owner`'s waiting and dead deliveries for `ownerRef`; lanes they headed move on. */
  async cancel(owner: string, ownerRef: string): Promise<number> {
    const rows = (await this.knex(this.table).where({ owner, owner_ref: ownerRef }).whereIn('status', ['queued', 'pending', 'dead']).select('id', 'ordering_key')) as Array<{ id: number; ordering_key: string }>;
    if (rows.length === 0) return 0;
    const dropped = await this.knex(this.table).whereIn('id', rows.map((r) => r.id)).whereIn('status', ['queued', 'pending', 'dead']).del();
    await this.promote([...new Set(rows.map((r) => r.ordering_key))]);
    this.wake();
    return dropped;
  }

  /**
   * Puts a dead delivery back in its lane with fresh attempts; true when it was dead. It keeps
   * its row, so it takes the place its creation gives it: after the delivery being attempted
   * in the lane now, before those created after it that still wait (a lane's queued
   * deliveries go in the order they were made).
   */
  async requeue(id: number, owner?: string): Promise<boolean> {
    const now = Date.now();
    const q = this.knex(this.table).where({ id, status: 'dead' });
    if (owner) q.andWhere('owner', owner);
    const row = (await q.first()) as OutboxRow | undefined;
    if (!row) return false;
    await this.knex(this.table).where({ id, status: 'dead' }).update({
      status: 'queued',
      attempts: 0,
      failures: 0,
      next_attempt_at: now,
      expires_at: now + this.settings.maxAgeMs,
      finished_at: null,
    });
    // Room for the next attempt within the attempts kept (a first attempt that delivers does not trim).
    await this.attemptLog.trim([id], ATTEMPTS_KEPT - 1);
    await this.promote([row.ordering_key]);
    this.wake();
    return true;
  }
}

function isSuccess(rule: string, status: number): boolean {
  if (rule === 'any-2xx') return status >= 200 && status < 300;
  return rule.split(',').map(Number).includes(status);
}
