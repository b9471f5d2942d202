/**
 * Reddit authorizations: app credentials (and a refresh token) that bots use to act on
 * reddit. The API lists them with their secrets, as redball's does; every secret read or
 * written here is registered with the kernel so that it never appears in a log line.
 */
import crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { InvalidInput } from '../errors.js';
import type { BotRedditAuth } from '../runner/bot-api.js';

/** A reddit authorization as the API shows it (redball's field names). */
export interface RedditAuth {
  /** Internal id. */
  id: number;
  /** Its name, e.g. `BotUserName AllScopes`. */
  description: string;
  /** The reddit app id. */
  reddit_appId: string;
  /** The reddit app secret. */
  reddit_appSecret: string;
  /** The scopes, as redball stores them: the JSON text of a list, e.g. `["identity", "read"]`. */
  reddit_scopes: string;
  /** The refresh token, or null. */
  reddit_refreshToken: string | null;
  /** The random code that identifies the authorization in reddit's OAuth callback. */
  reddit_uniqueCode: string;
}

interface RedditAuthRecord {
  id: number | string;
  description: string;
  app_id: string;
  app_secret: string;
  scopes: string;
  refresh_token: string | null;
  unique_code: string;
}

/** What can be written. */
export interface RedditAuthInput {
  /** Name. */
  description: string;
  /** App id. */
  appId: string;
  /** App secret. */
  appSecret: string;
  /** Scopes. */
  scopes: string[];
  /** Refresh token. */
  refreshToken?: string | null;
}

/**
 * Parses scopes given as redball documents them (`['identity','read']`), as a JSON array, or
 * as comma- or space-separated words. Returns undefined when it is not a list of scope words.
 */
export function parseScopes(raw: unknown): string[] | undefined {
  let list: unknown;
  if (Array.isArray(raw)) list = raw;
  else if (typeof raw === 'string') {
    const s = raw.trim();
    if (s.startsWith('[')) {
      try {
        // redball's documented form uses Python quotes: ['a','b'].
        list = JSON.parse(s.replace(/'/g, '"'));
      } catch {
        return undefined;
      }
    } else list = s.split(/[\s,]+/).filter(Boolean);
  } else return undefined;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const scopes = list.map((x) => (typeof x === 'string' ? x.trim() : ''));
  if (scopes.some((x) => !/^([A-Za-z][A-Za-z0-9_]*|\*)$/.test(x) || x.length > 64)) return undefined;
  return [...new Set(scopes)];
}

/** The text redball stores and shows for a list of scopes (Python's `json.dumps`). */
export function scopesText(scopes: readonly string[]): string {
  return `[${scopes.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/** Reads and writes reddit authorizations. */
@injectable()
export class RedditAuthStore {
  private readonly table: string;
  private readonly bots: string;

  /** @param ctx - the plugin context (database, table names, secrets) */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('reddit_auths');
    this.bots = ctx.table('bots');
  }

  /** Every authorization, by id. */
  async list(): Promise<RedditAuth[]> {
    const rows: RedditAuthRecord[] = await this.ctx.db(this.table).select('*').orderBy('id');
    return rows.map((r) => this.toApi(r));
  }

  /** One authorization. */
  async get(id: number): Promise<RedditAuth | undefined> {
    const row: RedditAuthRecord | undefined = await this.ctx.db(this.table).where({ id }).first();
    return row ? this.toApi(row) : undefined;
  }

  /** True when the authorization exists. */
  async exists(id: number): Promise<boolean> {
    return (await this.ctx.db(this.table).where({ id }).first('id')) !== undefined;
  }

  /** Registers every stored secret with the log scrubber (called once at init). */
  async registerSecrets(): Promise<void> {
    const rows: Array<Pick<RedditAuthRecord, 'app_secret' | 'refresh_token'>> = await this.ctx.db(this.table).select('app_secret', 'refresh_token');
    for (const r of rows) {
      this.ctx.secrets.add(r.app_secret);
      this.ctx.secrets.add(r.refresh_token);
    }
  }

  /** Creates an authorization with a fresh unique code. */
  async create(input: RedditAuthInput): Promise<number> {
    this.ctx.secrets.add(input.appSecret);
    this.ctx.secrets.add(input.refreshToken);
    try {
      return await this.ctx.dialect.insertId(this.ctx.db, this.table, {
        description: input.description,
        app_id: input.appId,
        app_secret: input.appSecret,
        scopes: JSON.stringify(input.scopes),
        refresh_token: input.refreshToken ?? null,
        unique_code: crypto.randomUUID().replace(/-/g, ''),
      });
    } catch (err) {
      if (this.ctx.dialect.isUniqueViolation(err)) throw new InvalidInput(`A reddit authorization described as '${input.description}' already exists.`);
      throw err;
    }
  }

  /** Updates the given fields. Returns false when the authorization does not exist. */
  async update(id: number, patch: Partial<RedditAuthInput>): Promise<boolean> {
    const row: Record<string, string | null> = {};
    if (patch.description !== undefined) row.description = patch.description;
    if (patch.appId !== undefined) row.app_id = patch.appId;
    if (patch.appSecret !== undefined) row.app_secret = patch.appSecret;
    if (patch.scopes !== undefined) row.scopes = JSON.stringify(patch.scopes);
    if (patch.refreshToken !== undefined) row.refresh_token = patch.refreshToken;
    this.ctx.secrets.add(patch.appSecret);
    this.ctx.secrets.add(patch.refreshToken);
    try {
      return (await this.ctx.db(this.table).where({ id }).update(row)) > 0;
    } catch (err) {
      if (this.ctx.dialect.isUniqueViolation(err)) throw new InvalidInput(`A reddit authorization described as '${patch.description}' already exists.`);
      throw err;
    }
  }

  /** Deletes an authorization no bot uses; throws {@link InvalidInput} naming the bots that do. */
  async delete(id: number): Promise<boolean> {
    const users: Array<{ id: number | string }> = await this.ctx.db(this.bots).where({ reddit_auth_id: id }).select('id').orderBy('id');
    if (users.length > 0) {
      throw new InvalidInput(`Reddit authorization ${id} is used by bot${users.length > 1 ? 's' : ''} ${users.map((u) => Number(u.id)).join(', ')}; change their redditAuth first.`);
    }
    try {
      return (await this.ctx.db(this.table).where({ id }).delete()) > 0;
    } catch (err) {
      if (this.ctx.dialect.isForeignKeyViolation(err)) throw new InvalidInput(`Reddit authorization ${id} is used by a bot; change its redditAuth first.`);
      throw err;
    }
  }

  /** The authorization in the shape a bot's run function receives, or null. */
  async forBot(id: number | null): Promise<BotRedditAuth | null> {
    if (id === null) return null;
    const row: RedditAuthRecord | undefined = await this.ctx.db(this.table).where({ id }).first();
    if (!row) return null;
    return {
      id: Number(row.id),
      description: row.description,
      reddit_appId: row.app_id,
      reddit_appSecret: row.app_secret,
      reddit_scopes: readScopes(row.scopes),
      reddit_refreshToken: row.refresh_token,
    };
  }

  private toApi(r: RedditAuthRecord): RedditAuth {
    return {
      id: Number(r.id),
      description: r.description,
      reddit_appId: r.app_id,
      reddit_appSecret: r.app_secret,
      reddit_scopes: scopesText(readScopes(r.scopes)),
      reddit_refreshToken: r.refresh_token,
      reddit_uniqueCode: r.unique_code,
    };
  }
}

function readScopes(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}
