/**
 * Runtime statistics (`GET /stats/`), kept in the database: one row per instance, so that
 * several instances sharing a PostgreSQL report their sum and the counts survive restarts.
 *
 * Counting is write-behind: `record` adds to this instance's in-memory counters at once and
 * a single flusher writes the accumulated deltas (`UPDATE … SET n = n + delta`). Reading is
 * free of queries: this instance's counters plus the other rows' sum, which is refreshed in
 * the background at most once a second — `/stats/` is a benchmarked endpoint.
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';

/** The counters of `/stats/`. */
export interface StatsCounters {
  /** Events parsed (messages, and the runtime's own "started" event). */
  messagesParsed: number;
  /** Webhook calls that passed auth. */
  webhooksCalled: number;
  /** Events answered (each counted once). */
  totalResponses: number;
  /** Seconds from each answered event's arrival to its first response, summed. */
  totalResponseTime: number;
}

function zero(): StatsCounters {
  return { messagesParsed: 0, webhooksCalled: 0, totalResponses: 0, totalResponseTime: 0 };
}

function isZero(c: StatsCounters): boolean {
  return c.messagesParsed === 0 && c.webhooksCalled === 0 && c.totalResponses === 0 && c.totalResponseTime === 0;
}

function add(to: StatsCounters, delta: Partial<StatsCounters>): void {
  to.messagesParsed += delta.messagesParsed ?? 0;
  to.webhooksCalled += delta.webhooksCalled ?? 0;
  to.totalResponses += delta.totalResponses ?? 0;
  to.totalResponseTime += delta.totalResponseTime ?? 0;
}

interface StatsRow {
  messages_parsed: number | string | null;
  webhooks_called: number | string | null;
  total_responses: number | string | null;
  total_response_time: number | string | null;
}

function fromRow(row: StatsRow | undefined): StatsCounters {
  if (!row) return zero();
  return {
    messagesParsed: Number(row.messages_parsed ?? 0),
    webhooksCalled: Number(row.webhooks_called ?? 0),
    totalResponses: Number(row.total_responses ?? 0),
    totalResponseTime: Number(row.total_response_time ?? 0),
  };
}

/** How old the other instances' sum may get before a read refreshes it (ms). */
export const OTHERS_REFRESH_MS = 1000;

/** The statistics of the runtime, persisted per instance. */
@injectable()
export class StatsStore {
  private readonly table: string;
  private own = zero();
  private others = zero();
  private pending = zero();
  private othersAt = 0;
  private flushing?: Promise<void>;
  private refreshing?: Promise<void>;

  /** @param ctx - the plugin's context: database, table names, instance id */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('stats');
  }

  /** Loads this instance's row (creating it) and the other rows' sum. */
  async start(): Promise<void> {
    const db = this.ctx.db;
    const row = (await db(this.table).where({ instance_id: this.ctx.instanceId }).first()) as StatsRow | undefined;
    if (row) this.own = fromRow(row);
    else {
      await db(this.table)
        .insert({ instance_id: this.ctx.instanceId, updated_at: new Date().toISOString() })
        .onConflict('instance_id')
        .ignore();
    }
    await this.refreshOthers();
  }

  /** Adds to the counters; the database is updated in the background. */
  record(delta: Partial<StatsCounters>): void {
    add(this.own, delta);
    add(this.pending, delta);
    this.flushing ??= this.flushLoop();
  }

  /** The totals across every instance; never waits for the database. */
  snapshot(): StatsCounters {
    if (Date.now() - this.othersAt > OTHERS_REFRESH_MS && !this.refreshing) {
      this.refreshing = this.refreshOthers()
        .catch((err: unknown) => this.ctx.logger.warn({ err }, 'could not read the other instances\' stats'))
        .finally(() => (this.refreshing = undefined));
    }
    const total = { ...this.own };
    add(total, this.others);
    return total;
  }

  /** The totals read from the database only (for the CLI, where nothing runs). */
  async totals(): Promise<StatsCounters> {
    const row = (await this.ctx
      .db(this.table)
      .sum({ messages_parsed: 'messages_parsed', webhooks_called: 'webhooks_called', total_responses: 'total_responses', total_response_time: 'total_response_time' })
      .first()) as StatsRow | undefined;
    return fromRow(row);
  }

  /** Waits until every recorded delta is in the database. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!isZero(this.pending)) {
      this.flushing = this.flushLoop();
      await this.flushing;
    }
  }

  /** Writes what is left. */
  async stop(): Promise<void> {
    await this.flush();
  }

  private async refreshOthers(): Promise<void> {
    const row = (await this.ctx
      .db(this.table)
      .whereNot({ instance_id: this.ctx.instanceId })
      .sum({ messages_parsed: 'messages_parsed', webhooks_called: 'webhooks_called', total_responses: 'total_responses', total_response_time: 'total_response_time' })
      .first()) as StatsRow | undefined;
    this.others = fromRow(row);
    this.othersAt = Date.now();
  }

  private async flushLoop(): Promise<void> {
    try {
      while (!isZero(this.pending)) {
        const delta = this.pending;
        this.pending = zero();
        try {
          const updated = await this.ctx
            .db(this.table)
            .where({ instance_id: this.ctx.instanceId })
            .increment({
              messages_parsed: delta.messagesParsed,
              webhooks_called: delta.webhooksCalled,
              total_responses: delta.totalResponses,
              total_response_time: delta.totalResponseTime,
            })
            .update({ updated_at: new Date().toISOString() });
          if (updated === 0) {
            // The row went away (someone cleaned the table): write this instance's totals again.
            await this.ctx.db(this.table).insert({
              instance_id: this.ctx.instanceId,
              messages_parsed: this.own.messagesParsed - this.pending.messagesParsed,
              webhooks_called: this.own.webhooksCalled - this.pending.webhooksCalled,
              total_responses: this.own.totalResponses - this.pending.totalResponses,
              total_response_time: this.own.totalResponseTime - this.pending.totalResponseTime,
              updated_at: new Date().toISOString(),
            });
          }
        } catch (err) {
          // Keep the delta; the next record (or stop) tries again.
          add(this.pending, delta);
          this.ctx.logger.warn({ err }, 'could not write the opsdroid stats');
          return;
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
