/**
 * Chat messages in the database. Every read is an indexed range over recent messages
 * (`created_at, seq`), so the cost does not grow with the size of the archive; visibility
 * updates run in chunks inside one transaction.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import type { StoredChatMessage } from './types.js';

interface MessageRow {
  id: string;
  type: string;
  author: string;
  body: string;
  raw_body: string;
  visible: unknown;
  created_at: number | string;
}

/** A message to store; the store assigns id and time. */
export interface NewMessage {
  /** Event type. */
  type: string;
  /** Author name. */
  author: string;
  /** Rendered, sanitized HTML. */
  body: string;
  /** The markdown as written. */
  rawBody: string;
  /** The websocket client it came from, if any. */
  clientId?: string;
}

/** Largest number of ids in one SQL `IN (…)` list. */
const CHUNK = 500;

/** A new message id: 12 URL-safe characters. */
export function newMessageId(): string {
  return crypto.randomBytes(9).toString('base64url');
}

/** Reads and writes chat messages. */
@injectable()
export class MessageStore {
  private readonly table: string;
  private readonly columns = ['id', 'type', 'author', 'body', 'raw_body', 'visible', 'created_at'];

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('messages');
  }

  /** Stores a message (in `trx` when given) and returns it with its id and time. */
  async insert(message: NewMessage, trx?: Knex.Transaction): Promise<StoredChatMessage> {
    return (await this.insertAll([message], trx ?? this.ctx.db))[0];
  }

  /**
   * Stores messages in one statement, in `db` (a transaction, or the pool), and returns them
   * with their ids and time, in order. They share one time; their order is the insert order
   * (the `seq` column), which history reads break ties with.
   */
  async insertAll(messages: readonly NewMessage[], db: Knex | Knex.Transaction): Promise<StoredChatMessage[]> {
    if (messages.length === 0) return [];
    const now = Date.now();
    const timestamp = new Date(now).toISOString();
    const stored = messages.map(
      (message): StoredChatMessage => ({
        id: newMessageId(),
        author: message.author,
        body: message.body,
        rawBody: message.rawBody,
        type: message.type,
        visible: true,
        timestamp,
      }),
    );
    await db(this.table).insert(
      stored.map((m, i) => ({
        id: m.id,
        type: m.type,
        author: m.author,
        body: m.body,
        raw_body: m.rawBody,
        visible: true,
        created_at: now,
        client_id: messages[i].clientId ?? null,
      })),
    );
    return stored;
  }

  /** Stores many messages at once (seeding, imports); times are given. */
  async insertMany(messages: Array<NewMessage & { at: number; visible?: boolean }>): Promise<string[]> {
    const rows = messages.map((m) => ({
      id: newMessageId(),
      type: m.type,
      author: m.author,
      body: m.body,
      raw_body: m.rawBody,
      visible: m.visible ?? true,
      created_at: m.at,
      client_id: m.clientId ?? null,
    }));
    await this.ctx.db.batchInsert(this.table, rows, 200);
    return rows.map((r) => r.id);
  }

  /** Visible messages of the last `windowMs`, the newest `limit` of them, oldest first. */
  async recent(windowMs: number, limit: number): Promise<StoredChatMessage[]> {
    const rows = (await this.ctx
      .db(this.table)
      .select(this.columns)
      .where('visible', true)
      .andWhere('created_at', '>=', Date.now() - windowMs)
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'seq', order: 'desc' },
      ])
      .limit(limit)) as MessageRow[];
    return rows.reverse().map((r) => this.toMessage(r));
  }

  /** Messages of a type in the last `windowMs`, hidden ones too, the newest `limit`, oldest first. */
  async ofType(type: string, windowMs: number, limit: number): Promise<StoredChatMessage[]> {
    const rows = (await this.ctx
      .db(this.table)
      .select(this.columns)
      .where('type', type)
      .andWhere('created_at', '>=', Date.now() - windowMs)
      .orderBy([
        { column: 'type', order: 'desc' },
        { column: 'created_at', order: 'desc' },
        { column: 'seq', order: 'desc' },
      ])
      .limit(limit)) as MessageRow[];
    return rows.reverse().map((r) => this.toMessage(r));
  }

  /** One message by id. */
  async find(id: string): Promise<StoredChatMessage | undefined> {
    const row = (await this.ctx.db(this.table).select(this.columns).where('id', id).first()) as MessageRow | undefined;
    return row ? this.toMessage(row) : undefined;
  }

  /**
   * Sets the visibility of the messages with these ids (unknown ids are ignored) and returns
   * the messages found, with their new visibility, in the order of `ids`.
   */
  async setVisibility(ids: readonly string[], visible: boolean, trx: Knex.Transaction): Promise<StoredChatMessage[]> {
    const unique = [...new Set(ids)];
    const found = new Map<string, StoredChatMessage>();
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      await trx(this.table).whereIn('id', chunk).update({ visible });
      const rows = (await trx(this.table).select(this.columns).whereIn('id', chunk)) as MessageRow[];
      for (const row of rows) found.set(row.id, this.toMessage(row));
    }
    return unique.flatMap((id) => found.get(id) ?? []);
  }

  /** Deletes messages older than `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    return this.ctx.db(this.table).where('created_at', '<', before).del();
  }

  /** How many messages are stored. */
  async count(): Promise<number> {
    const [row] = await this.ctx.db(this.table).count({ n: '*' });
    return Number((row as { n: number | string }).n);
  }

  private toMessage(row: MessageRow): StoredChatMessage {
    return {
      id: row.id,
      author: row.author,
      body: row.body,
      rawBody: row.raw_body,
      type: row.type,
      visible: this.ctx.dialect.bool(row.visible),
      timestamp: new Date(Number(row.created_at)).toISOString(),
    };
  }
}
