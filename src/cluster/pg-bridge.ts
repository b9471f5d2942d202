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

  /**
   * @param knex - the shared (PostgreSQL) database; its connection settings are reused
   * @param tablePrefix - the kernel's table prefix
   * @param bus - the local event bus
   * @param instanceId - this instance, so it ignores its own notifications
   * @param logger - for connection trouble
   */
  constructor(
    private readonly knex: Knex,
    tablePrefix: string,
    private readonly bus: EventBus,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {
    this.table = `${tablePrefix}cluster_events`;
  }

  /** Connects and starts listening; installs itself as the bus's forwarder. */
  async start(): Promise<void> {
    this.bus.setForwarder(this);
    await this.connect();
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
        if (!row) return;
        payload = JSON.parse(row.payload);
      }
      this.bus.emitLocal(env.n, payload);
    } catch (err) {
      this.logger.error({ err }, 'cluster event could not be read');
    }
  }

  /** Stops listening and closes the dedicated connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.bus.setForwarder(undefined);
    await this.sending;
    const client = this.client;
    this.client = undefined;
    await this.connecting?.catch(() => undefined);
    await client?.end().catch(() => undefined);
    await this.knex(this.table).where('created_at', '<', Date.now() - 60 * 60 * 1000).del().catch(() => undefined);
  }
}
