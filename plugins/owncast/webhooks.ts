/**
 * Outgoing webhooks: stored in the database, kept in memory for the hot path (a chat
 * message looks up its subscribers without a query; a webhook created or deleted on one
 * instance is re-read at once by the others, `owncast.shared.changed`), and delivered through the kernel's
 * durable outbox — each webhook its own ordered lane, with a timeout, retries with backoff,
 * and `lastUsed` set when a delivery succeeds.
 *
 * The delivery body is Owncast's: `{"type": <event>, "eventData": {...}}`.
 */
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { ErrorCodes, isSwitchboardError, Tokens, type AttemptOutcome, type DeliveryInput, type PluginContext } from '../../src/index.js';
import { WEBHOOK_EVENTS, type WebhookEvent } from './constants.js';
import { badRequest } from './wire.js';

/** A webhook as the API shows it. */
export interface Webhook {
  /** Its id. */
  id: number;
  /** Where events are posted. */
  url: string;
  /** The events it receives. */
  events: WebhookEvent[];
  /** When it was created (ISO 8601). */
  timestamp: string;
  /** When a delivery last succeeded (ISO 8601), or null. */
  lastUsed: string | null;
}

interface WebhookRow {
  id: number | string;
  url: string;
  events: string;
  created_at: number | string;
  last_used: number | string | null;
}

const OWNER_REF = /^webhook:(\d+)$/;
/** Deliveries per insert. */
const BATCH = 500;
/** Shortest interval between two `lastUsed` writes of one webhook. */
const LAST_USED_RESOLUTION_MS = 1000;

/** Manages webhooks and sends events to them. */
@injectable()
export class WebhookService {
  private readonly table: string;
  private cached: Webhook[] = [];
  private readonly lastWritten = new Map<number, number>();

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('webhooks');
  }

  /** Reloads the webhooks into memory (another process may have changed them). */
  async load(): Promise<void> {
    const rows = (await this.ctx.db(this.table).select('*').orderBy('id')) as WebhookRow[];
    this.cached = rows.map((r) => this.toWebhook(r));
  }

  /** Every webhook, oldest first. */
  async list(): Promise<Webhook[]> {
    await this.load();
    return this.cached;
  }

  /**
   * Creates a webhook. Refuses unknown events, and URLs that are not http(s) or that the
   * outbound URL policy does not allow (private addresses, unless configured).
   */
  async create(url: string, events: readonly string[]): Promise<Webhook> {
    if (!events.every((e) => (WEBHOOK_EVENTS as readonly string[]).includes(e))) throw badRequest('one or more invalid event provided');
    try {
      await this.ctx.outbox.checkUrl(url);
    } catch (err) {
      if (isSwitchboardError(err)) throw badRequest(err.message);
      throw err;
    }
    const now = Date.now();
    const unique = [...new Set(events)] as WebhookEvent[];
    const id = await this.ctx.dialect.insertId(this.ctx.db, this.table, { url, events: JSON.stringify(unique), created_at: now, last_used: null });
    await this.load();
    this.changed();
    return { id, url, events: unique, timestamp: new Date(now).toISOString(), lastUsed: null };
  }

  /** Deletes a webhook and drops its deliveries still waiting in the outbox; false when there is none with this id. */
  async delete(id: number): Promise<boolean> {
    const n = await this.ctx.db(this.table).where('id', id).del();
    await this.load();
    if (n > 0) {
      this.changed();
      await this.ctx.outbox.cancel(`webhook:${id}`);
    }
    return n > 0;
  }

  /** Tells the other instances to re-read the webhooks now (an event must not miss a new one). */
  private changed(): void {
    this.ctx.events.emit('owncast.shared.changed', { what: 'webhooks', origin: this.ctx.instanceId }, { cluster: true });
  }

  /** True when some webhook receives `event` (so callers can skip building payloads). */
  wants(event: WebhookEvent): boolean {
    return this.cached.some((w) => w.events.includes(event));
  }

  /**
   * Enqueues `event` for every webhook subscribed to it, in `trx` when given (so the event
   * commits with the change that caused it). Returns how many deliveries were enqueued.
   */
  async dispatch(event: WebhookEvent, eventData: object, trx?: Knex.Transaction): Promise<number> {
    return this.dispatchMany([{ event, eventData }], trx);
  }

  /**
   * Enqueues many events at once (one insert per few hundred deliveries). A webhook whose
   * URL the outbound policy no longer allows is skipped with a warning; it never fails the
   * caller's change.
   */
  async dispatchMany(events: ReadonlyArray<{ event: WebhookEvent; eventData: object }>, trx?: Knex.Transaction): Promise<number> {
    const inputs: DeliveryInput[] = [];
    for (const { event, eventData } of events) {
      for (const hook of this.cached) {
        if (!hook.events.includes(event)) continue;
        inputs.push({ url: hook.url, body: { type: event, eventData }, ownerRef: `webhook:${hook.id}`, orderingKey: `owncast-webhook:${hook.id}` });
      }
    }
    if (inputs.length === 0) return 0;
    try {
      await this.enqueueBatches(inputs, trx);
      return inputs.length;
    } catch (err) {
      if (!isSwitchboardError(err, ErrorCodes.URL_NOT_ALLOWED)) throw err;
    }
    // Some webhook's URL is no longer allowed (its host now resolves to a private address,
    // or the policy changed): send to the others.
    const allowed = await this.allowedUrls(inputs);
    const sendable = inputs.filter((input) => allowed.has(input.url));
    await this.enqueueBatches(sendable, trx);
    return sendable.length;
  }

  private async enqueueBatches(inputs: readonly DeliveryInput[], trx?: Knex.Transaction): Promise<void> {
    for (let i = 0; i < inputs.length; i += BATCH) {
      await this.ctx.outbox.enqueueMany(inputs.slice(i, i + BATCH), trx ? { trx } : undefined);
    }
  }

  /** The distinct URLs of `inputs` that the outbound policy allows now. */
  private async allowedUrls(inputs: readonly DeliveryInput[]): Promise<Set<string>> {
    const allowed = new Set<string>();
    for (const url of new Set(inputs.map((i) => i.url))) {
      try {
        await this.ctx.outbox.checkUrl(url);
        allowed.add(url);
      } catch (err) {
        if (!isSwitchboardError(err)) throw err;
        const hooks = this.cached.filter((h) => h.url === url).map((h) => h.id);
        this.ctx.logger.warn({ webhooks: hooks }, `webhook not sent: ${err.message}`);
      }
    }
    return allowed;
  }

  /**
   * Records a successful delivery as the webhook's `lastUsed` (the outbox calls this after
   * every attempt). Written at most once a second per webhook, so a busy webhook does not
   * add a write per delivery; skipped once the kernel is stopping (the database is closing).
   */
  async recordAttempt(outcome: AttemptOutcome): Promise<void> {
    if (!outcome.ok || this.ctx.signal.aborted) return;
    const m = OWNER_REF.exec(outcome.ownerRef ?? '');
    if (!m) return;
    const id = Number(m[1]);
    const at = outcome.at.getTime();
    if (at - (this.lastWritten.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastWritten.set(id, at);
    await this.ctx.db(this.table).where('id', id).update({ last_used: at });
    const hook = this.cached.find((w) => w.id === id);
    if (hook) hook.lastUsed = outcome.at.toISOString();
  }

  private toWebhook(row: WebhookRow): Webhook {
    let events: WebhookEvent[] = [];
    try {
      events = JSON.parse(row.events) as WebhookEvent[];
    } catch {
      this.ctx.logger.warn({ webhook: row.id }, 'webhook has unreadable events');
    }
    return {
      id: Number(row.id),
      url: row.url,
      events,
      timestamp: new Date(Number(row.created_at)).toISOString(),
      lastUsed: row.last_used === null ? null : new Date(Number(row.last_used)).toISOString(),
    };
  }
}
