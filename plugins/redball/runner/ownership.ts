/**
 * Who runs which bot when several instances share one PostgreSQL.
 *
 * - Each running bot has a lease (`redball:bot:<id>` in the kernel's lease table) held by
 *   the instance that runs it and renewed while it runs; if that instance dies, the lease
 *   expires and another instance takes the bot over.
 * - Each instance keeps a membership row (`redball_instances`) alive the same way, so an
 *   instance can tell whether it is the first of a cluster that is starting (it then resets
 *   runs nobody holds and starts the autoRun bots, as a single server does when it starts)
 *   and whether it is the last one stopping (it then records its bots as stopped; otherwise
 *   it hands them over to the others).
 *
 * Without the cluster event bridge (SQLite, or `cluster: false`) there is one instance:
 * every bot is owned by it and nothing is written.
 */
import type { PluginContext } from '../../../src/index.js';

/** Bot leases and instance membership. */
export class BotOwnership {
  private readonly table: string;

  /**
   * @param ctx - the plugin context (leases, database, instance id)
   * @param leaseMs - how long a lease or membership lasts without renewal
   */
  constructor(
    private readonly ctx: PluginContext,
    readonly leaseMs: number,
  ) {
    this.table = ctx.table('instances');
  }

  /** True when several instances may share the database (the kernel bridges cluster events). */
  get clustered(): boolean {
    return this.ctx.clustered && this.ctx.mode === 'server';
  }

  /** This instance's id. */
  get instanceId(): string {
    return this.ctx.instanceId;
  }

  private lease(botId: number): string {
    return `redball:bot:${botId}`;
  }

  /** Takes or renews the bot's lease; true when this instance holds it (always, unclustered). */
  async acquire(botId: number): Promise<boolean> {
    if (!this.clustered) return true;
    return this.ctx.leases.acquire(this.lease(botId), this.leaseMs);
  }

  /** Gives the bot's lease up (when held here). */
  async release(botId: number): Promise<void> {
    if (!this.clustered) return;
    await this.ctx.leases.release(this.lease(botId));
  }

  /** The instance holding the bot's lease, if any holds it. Unclustered: undefined (there are no leases). */
  async holder(botId: number): Promise<string | undefined> {
    if (!this.clustered) return undefined;
    return this.ctx.leases.holderOf(this.lease(botId));
  }

  /** Keeps this instance's membership alive for another lease period. */
  async heartbeat(): Promise<void> {
    if (!this.clustered) return;
    const now = Date.now();
    await this.ctx.db(this.table)
      .insert({ instance_id: this.ctx.instanceId, alive_until: now + this.leaseMs })
      .onConflict('instance_id')
      .merge(['alive_until']);
    // Members gone for a long time are forgotten.
    await this.ctx.db(this.table).where('alive_until', '<', now - 60 * 60 * 1000).delete();
  }

  /** True when another instance renewed its membership within the lease period. */
  async othersAlive(): Promise<boolean> {
    if (!this.clustered) return false;
    const row = await this.ctx.db(this.table).whereNot('instance_id', this.ctx.instanceId).andWhere('alive_until', '>=', Date.now()).first('instance_id');
    return row !== undefined;
  }

  /** Ends this instance's membership (graceful stop). */
  async leave(): Promise<void> {
    if (!this.clustered) return;
    await this.ctx.db(this.table).where('instance_id', this.ctx.instanceId).delete();
  }
}
