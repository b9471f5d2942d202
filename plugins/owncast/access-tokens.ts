/**
 * Integration access tokens: 32 random bytes in URL-safe base64 with padding (44
 * characters), each with a name and scopes. The token itself is stored because the
 * contract lists it (`GET /api/admin/accesstokens`), and a SHA-256 hash of it is what
 * requests are looked up by. Every token is registered as a secret, so it never appears in
 * a log line. Using a token sets its `lastUsed` (written at most once a second per token).
 */
import crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { BatchedLookup, hashToken, Tokens, type PluginContext, type Principal } from '../../src/index.js';
import { ALL_SCOPES } from './constants.js';
import { badRequest } from './wire.js';

/** An access token as the API shows it. */
export interface AccessToken {
  /** The token. */
  token: string;
  /** Its name. */
  name: string;
  /** Its scopes. */
  scopes: string[];
  /** When it was created (ISO 8601). */
  timestamp: string;
  /** When it was last used (ISO 8601), or null. */
  lastUsed: string | null;
}

interface TokenRow {
  id: number | string;
  token: string;
  token_hash: string;
  name: string;
  scopes: string;
  created_at: number | string;
  last_used: number | string | null;
}

/** Shortest interval between two `lastUsed` writes of one token. */
const LAST_USED_RESOLUTION_MS = 1000;

/**
 * A new token: 32 random bytes, URL-safe base64 with padding, never beginning with `-` (one
 * token in 64 would): a command line reads such a token as an option, so
 * `switchboard owncast token delete <token>` refused it as an unknown option. Drawn again
 * until it does not; the others stay as likely as before (see docs/compat/owncast.md).
 */
export function newAccessToken(): string {
  for (;;) {
    const token = crypto.randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    if (!token.startsWith('-')) return token;
  }
}

/** Creates, lists, deletes and verifies access tokens. */
@injectable()
export class AccessTokenStore {
  private readonly table: string;
  private readonly lastWritten = new Map<string, number>();
  /**
   * Token rows by hash, read through `ctx.reads` (on SQLite its own connection: a check does
   * not wait behind the chat's writes). Requests verifying at the same time share one query;
   * each is answered by a query that started after it arrived, so a deleted token is refused
   * at once.
   */
  private readonly byHash: BatchedLookup<string, Pick<TokenRow, 'id' | 'name' | 'scopes'>>;

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('access_tokens');
    this.byHash = new BatchedLookup({
      load: async (hashes) => {
        const rows = (await this.ctx.reads(this.table).select('id', 'name', 'scopes', 'token_hash').whereIn('token_hash', hashes)) as Array<Pick<TokenRow, 'id' | 'name' | 'scopes' | 'token_hash'>>;
        return new Map(rows.map((r) => [r.token_hash, r]));
      },
    });
  }

  /** Registers every stored token as a secret (run once at init). */
  async registerSecrets(): Promise<void> {
    const rows = (await this.ctx.db(this.table).select('token')) as Array<{ token: string }>;
    for (const row of rows) this.ctx.secrets.add(row.token);
  }

  /** Creates a token; refuses a missing name or unknown scopes. */
  async create(name: string, scopes: readonly string[]): Promise<AccessToken> {
    if (scopes.length === 0 || !scopes.every((s) => ALL_SCOPES.includes(s))) throw badRequest('one or more invalid scopes provided');
    if (name.trim() === '') throw badRequest('name is required');
    const token = newAccessToken();
    const now = Date.now();
    const unique = [...new Set(scopes)];
    this.ctx.secrets.add(token);
    await this.ctx.db(this.table).insert({ token, token_hash: hashToken(token), name, scopes: JSON.stringify(unique), created_at: now, last_used: null });
    // Other instances register it as a secret too (it must never reach their logs either).
    this.ctx.events.emit('owncast.shared.changed', { what: 'tokens', origin: this.ctx.instanceId }, { cluster: true });
    return { token, name, scopes: unique, timestamp: new Date(now).toISOString(), lastUsed: null };
  }

  /** Every token, oldest first. */
  async list(): Promise<AccessToken[]> {
    const rows = (await this.ctx.db(this.table).select('*').orderBy('id')) as TokenRow[];
    return rows.map((r) => this.toToken(r));
  }

  /** Deletes a token; false when it does not exist. */
  async delete(token: string): Promise<boolean> {
    const n = await this.ctx.db(this.table).where('token_hash', hashToken(token)).del();
    this.lastWritten.delete(hashToken(token));
    return n > 0;
  }

  /** Resolves a presented token to its principal (with scopes), or null; records the use. */
  async verify(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const row = await this.byHash.get(hash);
    if (!row) return null;
    const now = Date.now();
    if (now - (this.lastWritten.get(hash) ?? 0) >= LAST_USED_RESOLUTION_MS) {
      this.lastWritten.set(hash, now);
      await this.ctx.db(this.table).where('token_hash', hash).update({ last_used: now });
    }
    let scopes: string[] = [];
    try {
      scopes = JSON.parse(row.scopes) as string[];
    } catch {
      this.ctx.logger.warn({ token: Number(row.id) }, 'access token has unreadable scopes');
    }
    return { id: `token:${row.id}`, displayName: row.name, scopes, kind: 'token' };
  }

  private toToken(row: TokenRow): AccessToken {
    let scopes: string[] = [];
    try {
      scopes = JSON.parse(row.scopes) as string[];
    } catch {
      scopes = [];
    }
    return {
      token: row.token,
      name: row.name,
      scopes,
      timestamp: new Date(Number(row.created_at)).toISOString(),
      lastUsed: row.last_used === null ? null : new Date(Number(row.last_used)).toISOString(),
    };
  }
}
