/**
 * The cluster event bridge over PostgreSQL `LISTEN/NOTIFY`: events emitted with
 * `{ cluster: true }` reach the listeners of every instance sharing the database. Payloads
 * must be JSON-safe (a `Date` arrives as a string). PostgreSQL limits a notification to
 * 8000 bytes, so larger payloads are stored in `swb_cluster_events` and the notification
 * carries their id. The listening connection is a dedicated client, reconnected with
 * backoff if it drops; events emitted while it is down still reach local listeners. Events
 * other instances sent while it was down are lost, so after a reconnection the bridge emits
 * `cluster.resync` locally: per-process caches listen to it and drop what they hold.
 *
 * Spilled payloads are only needed until the other instances have read them, right after
 * the notification. Anyone who can make a large cluster event (an anonymous Owncast chat
 * frame can) could otherwise fill the shared database, so a listening bridge deletes the
 * rows older than five minutes every minute.
 *
 * A kernel that only runs CLI commands does not listen, but still sends: a change made by the
 * CLI (a revoked token, an installed bot) reaches the running instances at once.
 */
import type { Knex } from 'knex';
import type pg from 'pg';
import type { EventBus, EventForwarder } from '../events.js';
import type { Logger } from '../logger.js';

/** The notification channel. */
export const CLUSTER_CHANNEL = 'swb_events';
/** Payloads larger than this are spilled to the table. */
const MAX_INLINE_BYTES = 7000;
/**
 * How long a spilled payload is kept. A receiver reads it as soon as the notification
 * arrives, behind only the reads of the notifications before it: milliseconds, seconds under
 * load. Five minutes leaves room for a receiver whose event loop stalls and for clock skew
 * between instances (`created_at` is the sender's clock, the cutoff the pruner's), while it
 * bounds the table to what can be sent in about six minutes (retention plus one interval). A
 * receiver later than this finds no row and handles the event as lost.
 */
const SPILL_RETENTION_MS = 5 * 60 * 1000;
/** How often a listening bridge prunes spilled payloads. */
const PRUNE_INTERVAL_MS = 60 * 1000;

interface Envelope {
  /** Sending instance. */
  o: string;
  /** Event name. */
  n: string;
  /** Payload, inline. */
  p?: unknown;
  /** Or the id of the spilled payload. */
  s?: number;
}

/** Bridges the event bus across instances through PostgreSQL. */
export class PgEventBridge implements EventForwarder {
  private client?: pg.Client;
  private stopped = false;
  private retryMs = 200;
  private readonly table: string;
  private connecting?: Promise<void>;
  private connectedOnce = false;
  /** Sends and receipts run one after another, so events keep their order. */
  private sending: Promise<void> = Promise.resolve();
  private receiving: Promise<void> = Promise.resolve();
  private readonly retentionMs: number;
  private readonly pruneIntervalMs: number;
  private pruneTimer?: NodeJS.Timeout;
  /** The prune under way: a tick while it runs is skipped, so prunes never overlap. */
  private pruning?: Promise<void>;

  /**
   * @param knex - the shared (PostgreSQL) database; its connection settings are reused
   * @param tablePrefix - the kernel's table prefix
   * @param bus - the local event bus
   * @param instanceId - this instance, so it ignores its own notifications
   * @param logger - for connection trouble and failed prunes
   * @param options - how spilled payloads are pruned; the defaults suit production, tests
   * shorten them
   */
  constructor(
    private readonly knex: Knex,
    tablePrefix: string,
    private readonly bus: EventBus,
    private readonly instanceId: string,
    private readonly logger: Logger,
    options: {
      /** Spilled payloads older than this many milliseconds are deleted (default 5 minutes). */
      retentionMs?: number;
      /** Milliseconds between prunes while the bridge listens (default 1 minute). */
      pruneIntervalMs?: number;
    } = {},
  ) {
    this.table = `${tablePrefix}cluster_events`;
    this.retentionMs = options.retentionMs ?? SPILL_RETENTION_MS;
    this.pruneIntervalMs = options.pruneIntervalMs ?? PRUNE_INTERVAL_MS;
  }

  /**
   * Connects and starts listening; installs itself as the bus's forwarder. Prunes spilled
   * payloads periodically until {@link PgEventBridge.stop}.
   */
  async start(): Promise<void> {
    this.bus.setForwarder(this);
    await this.connect();
    // Only listening bridges prune: they live as long as the server. A CLI kernel
    // (sendOnly) prunes once, when it stops.
    if (!this.stopped) {
      this.pruneTimer ??= setInterval(() => void this.prune(), this.pruneIntervalMs).unref();
    }
  }

  /**
   * Installs itself as the bus's forwarder without listening (CLI commands): cluster events
   * emitted here reach the other instances. {@link PgEventBridge.stop} waits for them to be sent.
   */
  sendOnly(): void {
    this.bus.setForwarder(this);
  }

  private connect(): Promise<void> {
    this.connecting ??= (async () => {
      const settings = (this.knex.client as { connectionSettings: string | pg.ClientConfig }).connectionSettings;
      // Loaded only when a PostgreSQL bridge starts: evaluating the driver costs a SQLite
      // server ~30 ms of startup for nothing.
      const { default: driver } = await import('pg');
      const client = new driver.Client(typeof settings === 'string' ? { connectionString: settings } : settings);
      client.on('notification', (msg) => {
        this.receiving = this.receiving.then(() => this.receive(msg.payload));
      });
      client.on('error', (err) => this.lost(client, err));
      client.on('end', () => this.lost(client, new Error('connection ended')));
      await client.connect();
      await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
      this.client = client;
      this.retryMs = 200;
      if (this.connectedOnce) {
        // Notifications sent while we were not listening are gone: caches must start over.
        this.logger.info('cluster event bridge reconnected; per-process caches are dropped');
        this.receiving = this.receiving.then(() => void this.bus.emitLocal('cluster.resync', { at: new Date() }));
      }
      this.connectedOnce = true;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.stopped) return;
    this.logger.warn({ err }, 'cluster event bridge lost its connection; reconnecting');
    const retry = () => {
      if (this.stopped) return;
      this.connect().catch(() => {
        this.retryMs = Math.min(this.retryMs * 2, 10_000);
        setTimeout(retry, this.retryMs).unref();
      });
    };
    setTimeout(retry, this.retryMs).unref();
  }

  /** Sends an event to the other instances (fire and forget; failures are logged). */
  forward(name: string, payload: unknown): void {
    this.sending = this.sending.then(() => this.send(name, payload)).catch((err) => this.logger.error({ err, event: name }, 'cluster event not sent'));
  }

  private async send(name: string, payload: unknown): Promise<void> {
    let text = JSON.stringify({ o: this.instanceId, n: name, p: payload } satisfies Envelope);
    if (Buffer.byteLength(text) > MAX_INLINE_BYTES) {
      const [row] = (await this.knex(this.table).insert({ payload: JSON.stringify(payload), created_at: Date.now() }, ['id'])) as Array<{ id: number }>;
      text = JSON.stringify({ o: this.instanceId, n: name, s: Number(row.id) } satisfies Envelope);
    }
    await this.knex.raw('SELECT pg_notify(?, ?)', [CLUSTER_CHANNEL, text]);
  }

  private async receive(text: string | undefined): Promise<void> {
    if (!text) return;
    try {
      const env = JSON.parse(text) as Envelope;
      if (env.o === this.instanceId) return;
      let payload = env.p;
      if (env.s !== undefined) {
        const row = (await this.knex(this.table).where('id', env.s).first('payload')) as { payload: string } | undefined;
        if (!row) {
          // Pruned before we read it: lost like a notification missed while disconnected.
          this.logger.warn({ event: env.n, id: env.s }, 'spilled cluster event expired before it was read; per-process caches are dropped');
          this.bus.emitLocal('cluster.resync', { at: new Date() });
          return;
        }
        payload = JSON.parse(row.payload);
      }
      this.bus.emitLocal(env.n, payload);
    } catch (err) {
      this.logger.error({ err }, 'cluster event could not be read');
    }
  }

  /**
   * Deletes the spilled payloads older than the retention, unless a prune is already under
   * way (then it returns that one). Never throws: a failure is logged and the next tick
   * tries again.
   */
  private prune(): Promise<void> {
    this.pruning ??= (async () => {
      try {
        await this.knex(this.table).where('created_at', '<', Date.now() - this.retentionMs).del();
      } catch (err) {
        this.logger.error({ err }, 'spilled cluster events could not be pruned');
      }
    })().finally(() => {
      this.pruning = undefined;
    });
    return this.pruning;
  }

  /** Stops listening and pruning, closes the dedicated connection, and prunes a last time. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    this.bus.setForwarder(undefined);
    await this.sending;
    const client = this.client;
    this.client = undefined;
    await this.connecting?.catch(() => undefined);
    await client?.end().catch(() => undefined);
    // Waits for a prune under way (the database may close right after) and then runs one.
    await this.pruning;
    await this.prune();
  }
}
