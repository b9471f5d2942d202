/**
 * The outbox as operators see it: list deliveries by owner and state, show one with its
 * attempts, replay dead ones, purge old ones. The CLI (`switchboard outbox …`) and the admin
 * API are two faces of this one service.
 *
 * A replay keeps the delivery's id (`X-Switchboard-Delivery`, on which receivers
 * deduplicate), checks the URL against the policy in force now (the worker checks again on
 * every attempt), and puts the delivery back in its lane with fresh attempts, in the place
 * its creation gives it: after the delivery being attempted there now, before those created
 * after it.
 * It only changes the database, so on PostgreSQL whichever instance claims it delivers it,
 * and the owning family sees the outcome through its usual attempt listener (Owncast's
 * `lastUsed`, Talk's `error_count` and `last_error_*`).
 */
import type { Knex } from 'knex';
import { isSwitchboardError } from '../errors.js';
import { sanitizeAttemptError, type AttemptRecord } from './attempt-log.js';
import type { Outbox } from './outbox.js';

/** A delivery's state as operators see it. */
export type DeliveryState = 'pending' | 'retrying' | 'delivering' | 'dead' | 'delivered';

/** Every {@link DeliveryState}, in lifecycle order. */
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'retrying', 'delivering', 'dead', 'delivered'];

/** The states a purge may remove (finished deliveries only; live work is never purged). */
export const PURGEABLE_STATES = ['dead', 'delivered'] as const;

/** A finished state that {@link OutboxOperator.purge} accepts. */
export type PurgeableState = (typeof PURGEABLE_STATES)[number];

/** Most deliveries one list returns. */
export const LIST_LIMIT_MAX = 1000;
/** Most dead deliveries one `replay --dead` puts back (run it again for more). */
export const REPLAY_BATCH_MAX = 500;

/** One delivery in a listing. */
export interface DeliverySummary {
  /** Outbox row id. */
  id: number;
  /** The stable delivery id (`X-Switchboard-Delivery`). */
  deliveryId: string;
  /** The owning plugin. */
  owner: string;
  /** The owner's reference (e.g. `webhook:3`, `bot:12`). */
  ownerRef: string | null;
  /** Target URL, without credentials and with query values hidden (they may be tokens). */
  url: string;
  /** Where it is. */
  state: DeliveryState;
  /** Attempts made since it was enqueued or last replayed. */
  attempts: number;
  /** Attempts allowed. */
  maxAttempts: number;
  /** The last status received, if any. */
  lastStatus: number | null;
  /** The last error (short text), if any. */
  lastError: string | null;
  /** When it was enqueued. */
  createdAt: string;
  /** When it is next due (unfinished deliveries). */
  nextAttemptAt: string | null;
  /** When it was delivered or given up. */
  finishedAt: string | null;
}

/** One delivery with its kept attempts. */
export interface DeliveryDetail extends DeliverySummary {
  /** Its attempts, oldest first (the newest 20 are kept). */
  attemptLog: Array<
    Omit<AttemptRecord, 'at'> & {
      /** When the attempt started (ISO 8601). */
      at: string;
    }
  >;
}

/** Filters of {@link OutboxOperator.list}. */
export interface DeliveryFilter {
  /** Only this plugin's deliveries. */
  owner?: string;
  /** Only deliveries in this state. */
  state?: DeliveryState;
  /** At most this many, newest first (default 100, at most {@link LIST_LIMIT_MAX}). */
  limit?: number;
}

/** What {@link OutboxOperator.replay} did. */
export type ReplayResult =
  | {
      /** Put back: it will be attempted again, under the same id. */
      ok: true;
      /** The delivery as it is now. */
      delivery: DeliverySummary;
    }
  | {
      /** Not replayed. */
      ok: false;
      /** There is no delivery with that id. */
      reason: 'not-found';
      /** What went wrong, for people. */
      message: string;
    }
  | {
      /** Not replayed. */
      ok: false;
      /** The delivery is not dead, or the URL policy refuses its URL now. */
      reason: 'not-dead' | 'url-refused';
      /** What went wrong, for people. */
      message: string;
      /** The delivery as it is. */
      delivery: DeliverySummary;
    };

/** What {@link OutboxOperator.replayDead} did. */
export interface ReplayDeadResult {
  /** The deliveries put back. */
  replayed: number[];
  /** Those left dead because the URL policy refuses their URL now. */
  refused: Array<{
    /** The delivery's id. */
    id: number;
    /** Why the URL policy refuses its URL. */
    error: string;
  }>;
  /** Dead deliveries not looked at in this batch (run it again). */
  remaining: number;
}

interface Row {
  id: number | string;
  delivery_id: string;
  owner: string;
  owner_ref: string | null;
  url: string;
  status: string;
  attempts: number;
  failures: number;
  max_attempts: number;
  next_attempt_at: number | string;
  created_at: number | string;
  finished_at: number | string | null;
  last_status: number | null;
  last_error: string | null;
}

const SUMMARY_COLUMNS = ['id', 'delivery_id', 'owner', 'owner_ref', 'url', 'status', 'attempts', 'failures', 'max_attempts', 'next_attempt_at', 'created_at', 'finished_at', 'last_status', 'last_error'];
const ROW_ID = /^[1-9]\d{0,14}$/;
const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Shows a URL without its credentials and with each query value replaced by `…`. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid url>';
  }
  parsed.username = '';
  parsed.password = '';
  const keys = [...parsed.searchParams.keys()];
  const query = keys.length ? `?${keys.map((k) => `${encodeURIComponent(k)}=…`).join('&')}` : '';
  return `${parsed.origin}${parsed.pathname}${query}`;
}

/** The operator's view of the outbox (all owners). */
export class OutboxOperator {
  private readonly table: string;

  /**
   * @param knex - the shared database
   * @param tablePrefix - the kernel's table prefix
   * @param outbox - the kernel's outbox (for re-queueing and its URL policy)
   */
  constructor(
    private readonly knex: Knex,
    tablePrefix: string,
    private readonly outbox: Outbox,
  ) {
    this.table = `${tablePrefix}outbox`;
  }

  /** Deliveries, newest first. */
  async list(filter: DeliveryFilter = {}): Promise<DeliverySummary[]> {
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 100)), LIST_LIMIT_MAX);
    const q = this.knex(this.table).select(SUMMARY_COLUMNS).orderBy('id', 'desc').limit(limit);
    if (filter.owner !== undefined) q.where('owner', filter.owner);
    if (filter.state !== undefined) this.whereState(q, filter.state);
    return ((await q) as Row[]).map(summary);
  }

  /** One delivery, by row id or delivery id, with its attempts; undefined when there is none. */
  async show(ref: string | number): Promise<DeliveryDetail | undefined> {
    const row = await this.find(ref);
    if (!row) return undefined;
    const attempts = (await this.outbox.attemptLog.forDeliveries([Number(row.id)])).get(Number(row.id)) ?? [];
    return { ...summary(row), attemptLog: attempts.map((a) => ({ ...a, at: a.at.toISOString() })) };
  }

  /** Replays one dead delivery (same delivery id), after checking its URL against the policy. */
  async replay(ref: string | number): Promise<ReplayResult> {
    const row = await this.find(ref);
    if (!row) return { ok: false, reason: 'not-found', message: `No delivery ${String(ref)}` };
    const current = summary(row);
    if (current.state !== 'dead') {
      return { ok: false, reason: 'not-dead', message: `Delivery ${current.id} is ${current.state}; only dead deliveries can be replayed`, delivery: current };
    }
    const refusal = await this.urlRefusal(row.url);
    if (refusal) return { ok: false, reason: 'url-refused', message: refusal, delivery: current };
    if (!(await this.outbox.requeue(Number(row.id)))) {
      const now = await this.find(row.id);
      if (!now) return { ok: false, reason: 'not-found', message: `No delivery ${String(ref)}` };
      return { ok: false, reason: 'not-dead', message: `Delivery ${current.id} is ${summary(now).state}; only dead deliveries can be replayed`, delivery: summary(now) };
    }
    const after = await this.find(row.id);
    return { ok: true, delivery: after ? summary(after) : current };
  }

  /** Replays dead deliveries (of one owner, or all), oldest first, at most {@link REPLAY_BATCH_MAX} per call. */
  async replayDead(filter: { owner?: string } = {}): Promise<ReplayDeadResult> {
    const q = this.knex(this.table).select('id', 'url').where('status', 'dead').orderBy('id', 'asc').limit(REPLAY_BATCH_MAX + 1);
    if (filter.owner !== undefined) q.andWhere('owner', filter.owner);
    const rows = (await q) as Array<{ id: number | string; url: string }>;
    const batch = rows.slice(0, REPLAY_BATCH_MAX);
    // Each distinct URL is checked once (a name lookup each), not once per delivery.
    const refusals = new Map<string, string | undefined>();
    for (const url of new Set(batch.map((r) => r.url))) refusals.set(url, await this.urlRefusal(url));
    const result: ReplayDeadResult = { replayed: [], refused: [], remaining: 0 };
    for (const r of batch) {
      const refusal = refusals.get(r.url);
      if (refusal) result.refused.push({ id: Number(r.id), error: refusal });
      else if (await this.outbox.requeue(Number(r.id))) result.replayed.push(Number(r.id));
    }
    if (rows.length > REPLAY_BATCH_MAX) {
      const count = this.knex(this.table).count({ n: '*' }).where('status', 'dead');
      if (filter.owner !== undefined) count.andWhere('owner', filter.owner);
      result.remaining = Math.max(0, Number(((await count) as Array<{ n: number | string }>)[0].n) - result.refused.length);
    }
    return result;
  }

  /** Removes finished deliveries (dead or delivered) that finished more than `olderThanMs` ago; returns how many. */
  async purge(options: { state: PurgeableState; olderThanMs: number; owner?: string }): Promise<number> {
    const q = this.knex(this.table).where('status', options.state).andWhere('finished_at', '<', Date.now() - Math.max(0, options.olderThanMs));
    if (options.owner !== undefined) q.andWhere('owner', options.owner);
    return q.del();
  }

  private whereState(q: Knex.QueryBuilder, state: DeliveryState): void {
    if (state === 'pending') q.whereIn('status', ['queued', 'pending']).andWhere('failures', 0);
    else if (state === 'retrying') q.whereIn('status', ['queued', 'pending']).andWhere('failures', '>', 0);
    else q.where('status', state);
  }

  private async find(ref: string | number): Promise<Row | undefined> {
    const text = String(ref).trim();
    const q = this.knex(this.table).select(SUMMARY_COLUMNS);
    if (ROW_ID.test(text)) q.where('id', Number(text));
    else if (DELIVERY_ID.test(text)) q.where('delivery_id', text.toLowerCase());
    else return undefined;
    return (await q.first()) as Row | undefined;
  }

  private async urlRefusal(url: string): Promise<string | undefined> {
    try {
      await this.outbox.urlPolicy.check(url);
      return undefined;
    } catch (err) {
      if (isSwitchboardError(err)) return err.message.replace(/'[^']*'/g, (quoted) => (quoted.includes('://') ? `'${redactUrl(quoted.slice(1, -1))}'` : quoted));
      return 'the URL could not be checked';
    }
  }
}

function stateOf(row: Row): DeliveryState {
  if (row.status === 'queued' || row.status === 'pending') return row.failures > 0 ? 'retrying' : 'pending';
  return row.status as DeliveryState;
}

function iso(ms: number | string | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

function summary(row: Row): DeliverySummary {
  const state = stateOf(row);
  const finished = state === 'dead' || state === 'delivered';
  return {
    id: Number(row.id),
    deliveryId: row.delivery_id,
    owner: row.owner,
    ownerRef: row.owner_ref,
    url: redactUrl(row.url),
    state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastStatus: row.last_status,
    lastError: row.last_error === null ? null : sanitizeAttemptError(row.last_error),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    nextAttemptAt: finished ? null : iso(row.next_attempt_at),
    finishedAt: iso(row.finished_at),
  };
}
