/**
 * The chat clients of the whole cluster, for several instances on one PostgreSQL: the viewer
 * count and the client lists (`/api/status`, `/api/admin/status`, `/api/admin/clients`,
 * `/api/integrations/clients`, the peaks and the viewer samples) are the sum over every
 * instance, not just the sockets of the process that answers.
 *
 * Each instance writes its own presence — its count and clients — to `owncast_presence`
 * within `COUNT_DELAY_MS` of a change of its count, within `DETAILS_DELAY_MS` of
 * other changes of its clients (a name, a message count: busy chat must not turn into a write
 * and a cluster-wide re-read per message), and at least every third of `chat.presenceTtlMs`, with an expiry,
 * and announces the change (`owncast.presence.changed`, cluster-wide). Every instance keeps
 * the other instances' unexpired rows in memory, re-read on every announcement and on its own
 * renewals, so reading a count costs nothing. An instance that dies stops renewing: its
 * clients stop counting once its row expires. A stopping instance deletes its row at once.
 */
import type { PluginContext } from '../../../src/index.js';
import type { OwncastConfig } from '../plugin-config.js';
import type { ChatConnections, LocalChatConnections } from './hub.js';
import type { ChatClientInfo } from './types.js';

/** How soon a change of this instance's viewer count is written and announced, ms. */
const COUNT_DELAY_MS = 50;
/** How soon other changes of its client list (names, message counts) are, ms. */
const DETAILS_DELAY_MS = 1000;

interface PresenceRow {
  instance_id: string;
  viewer_count: number | string;
  clients: string;
}

/** Every instance's chat clients, summed. */
export class ClusterConnections implements ChatConnections {
  private readonly table: string;
  private others: Array<{ count: number; clients: ChatClientInfo[] }> = [];
  private othersCount = 0;
  private lastTotal = 0;
  private readonly listeners = new Set<(count: number) => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private publishTimer?: NodeJS.Timeout;
  private publishAt = 0;
  private renewTimer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  /**
   * @param ctx - the plugin's context (database, events, instance id)
   * @param local - this process's chat clients
   */
  constructor(
    private readonly ctx: PluginContext<OwncastConfig>,
    private readonly local: LocalChatConnections,
  ) {
    this.table = ctx.table('presence');
  }

  /** Chat clients connected to any instance. */
  count(): number {
    return this.local.count() + this.othersCount;
  }

  /** The chat clients of every instance (this one's first). */
  clients(): ChatClientInfo[] {
    return [...this.local.clients(), ...this.others.flatMap((o) => o.clients)];
  }

  /** Calls `listener` whenever the cluster's count changes. */
  onCountChange(listener: (count: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes this instance's presence and starts following the others'. */
  async start(): Promise<void> {
    this.unsubscribe.push(
      this.local.onCountChange(() => {
        this.countMaybeChanged();
        this.schedulePublish(COUNT_DELAY_MS);
      }),
      this.local.onClientsChange(() => this.schedulePublish(DETAILS_DELAY_MS)),
      this.ctx.events.on('owncast.presence.changed', (e) => {
        if (e.instanceId !== this.ctx.instanceId) this.serial(() => this.reload());
      }),
      this.ctx.events.on('cluster.resync', () => this.serial(() => this.reload())),
    );
    await this.serial(() => this.publish());
    await this.serial(() => this.reload());
    this.renew();
  }

  /** Stops following, and removes this instance's presence (its clients are being closed). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.publishTimer);
    clearTimeout(this.renewTimer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.chain;
    await this.ctx.db(this.table).where('instance_id', this.ctx.instanceId).del();
    this.ctx.events.emit('owncast.presence.changed', { instanceId: this.ctx.instanceId }, { cluster: true });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(fn).catch((err: unknown) => this.ctx.logger.warn({ err }, 'chat presence could not be shared'));
    return this.chain;
  }

  private renew(): void {
    if (this.stopped) return;
    this.renewTimer = setTimeout(() => {
      void this.serial(async () => {
        await this.publish();
        await this.reload();
        await this.ctx.db(this.table).where('alive_until', '<', Date.now() - 60 * 60 * 1000).del();
      }).finally(() => this.renew());
    }, Math.max(100, Math.floor(this.ctx.config.chat.presenceTtlMs / 3)));
    this.renewTimer.unref();
  }

  /** Writes the presence within `delayMs` (an earlier write already planned stands). */
  private schedulePublish(delayMs: number): void {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    if (this.publishTimer && this.publishAt <= at) return;
    clearTimeout(this.publishTimer);
    this.publishAt = at;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      void this.serial(() => this.publish());
    }, delayMs);
    this.publishTimer.unref();
  }

  /** Writes this instance's row and tells the others. */
  private async publish(): Promise<void> {
    if (this.stopped) return;
    const row = {
      instance_id: this.ctx.instanceId,
      viewer_count: this.local.count(),
      clients: JSON.stringify(this.local.clients()),
      alive_until: Date.now() + this.ctx.config.chat.presenceTtlMs,
    };
    await this.ctx.db(this.table).insert(row).onConflict('instance_id').merge(['viewer_count', 'clients', 'alive_until']);
    this.ctx.events.emit('owncast.presence.changed', { instanceId: this.ctx.instanceId }, { cluster: true });
  }

  /** Re-reads the other instances' unexpired rows. */
  private async reload(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    const rows = (await this.ctx.db(this.table).whereNot('instance_id', this.ctx.instanceId).andWhere('alive_until', '>=', now).select('instance_id', 'viewer_count', 'clients')) as PresenceRow[];
    this.others = rows.map((r) => {
      let clients: ChatClientInfo[] = [];
      try {
        clients = JSON.parse(r.clients) as ChatClientInfo[];
      } catch {
        this.ctx.logger.warn({ instance: r.instance_id }, 'ignoring unreadable chat presence');
      }
      return { count: Number(r.viewer_count), clients };
    });
    this.othersCount = this.others.reduce((n, o) => n + o.count, 0);
    this.countMaybeChanged();
  }

  private countMaybeChanged(): void {
    const total = this.count();
    if (total === this.lastTotal) return;
    this.lastTotal = total;
    for (const listener of this.listeners) {
      try {
        listener(total);
      } catch (err) {
        this.ctx.logger.error({ err }, 'viewer count listener failed');
      }
    }
  }
}
