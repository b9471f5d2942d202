/**
 * Websocket socket requests (`POST /connector/websocket`) waiting for their websocket, kept
 * in the database so that the request and the websocket may reach different instances
 * behind a load balancer. Open websockets themselves are per process (in the connector).
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';

/** The pending socket requests. */
@injectable()
export class SocketRequestStore {
  private readonly table: string;

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('socket_request');
  }

  /** Records a request. */
  async create(connector: string, id: string, at: Date): Promise<void> {
    await this.ctx.db(this.table).insert({ id, connector, created_at: this.ctx.dialect.toDate(at), instance_id: this.ctx.instanceId });
  }

  /** Takes a request (it can be used once): its creation time, or undefined when there is none. */
  async take(connector: string, id: string): Promise<Date | undefined> {
    const row = (await this.ctx.db(this.table).where({ id, connector }).first('created_at')) as { created_at: string } | undefined;
    if (!row) return undefined;
    // Whoever deletes the row owns the request, so two instances cannot both take it.
    const deleted = await this.ctx.db(this.table).where({ id, connector }).delete();
    return deleted === 1 ? (this.ctx.dialect.date(row.created_at) ?? undefined) : undefined;
  }

  /** How many requests of a connector were made after `since`. */
  async countSince(connector: string, since: Date): Promise<number> {
    const [row] = (await this.ctx.db(this.table).where({ connector }).where('created_at', '>', this.ctx.dialect.toDate(since)).count({ n: '*' })) as Array<{ n: number | string }>;
    return Number(row?.n ?? 0);
  }

  /** Forgets requests made before `before`. */
  async purge(connector: string, before: Date): Promise<void> {
    await this.ctx.db(this.table).where({ connector }).where('created_at', '<', this.ctx.dialect.toDate(before)).delete();
  }

  /** Forgets every request of a connector (it was disabled or reloaded). */
  async clear(connector: string): Promise<void> {
    await this.ctx.db(this.table).where({ connector }).delete();
  }
}
