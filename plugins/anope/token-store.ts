/**
 * API tokens kept in the database (the default auth policy): only their SHA-256 hashes are
 * stored, a token is shown once when it is created, and verification is cached for a few
 * seconds so that a request costs no query. A revocation announces `anope.tokens.revoked`
 * cluster-wide, so on PostgreSQL every running instance forgets its verified tokens at once,
 * also when the CLI revoked; otherwise (SQLite, where the CLI is another process) it takes
 * effect within {@link TOKEN_CACHE_MS}.
 */
import type { Knex } from 'knex';
import { hashToken, randomToken, type EventBus } from '../../src/index.js';
import type { AnopeNames } from './sql.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    /** An API token was revoked (emitted cluster-wide, also by the CLI): cached verifications are dropped. */
    'anope.tokens.revoked': {
      /** When, ms since the epoch. */
      at: number;
    };
  }
}

/** How long a verified token is trusted without asking the database again. */
export const TOKEN_CACHE_MS = 5000;
const CACHE_LIMIT = 1000;
const GENERATED_MARKER = 'first_token_generated_at';

/** A stored token as listed (never the token itself). */
export interface TokenInfo {
  /** Its id, for `revoke`. */
  id: number;
  /** A label given at creation. */
  label: string;
  /** When it was created (ISO 8601). */
  createdAt: string;
}

/** A token just created: the only time the token itself is visible. */
export interface CreatedToken {
  /** Its id, for `revoke`. */
  id: number;
  /** The token, for `Authorization: Bearer <token>`. */
  token: string;
}

/** The stored API tokens of the anope plugin. */
export class AnopeTokenStore {
  private readonly cache = new Map<string, number>();
  private generation = 0;
  private unsubscribe: Array<() => void> = [];

  /**
   * @param db - the shared Knex handle
   * @param names - the plugin's table names
   * @param events - the kernel's event bus (revocations are announced and heard through it)
   */
  constructor(
    private readonly db: Knex,
    private readonly names: AnopeNames,
    private readonly events?: Pick<EventBus, 'on' | 'emit'>,
  ) {}

  /** Forgets verified tokens whenever any instance (or the CLI) revokes one (server start). */
  listen(): void {
    if (!this.events || this.unsubscribe.length > 0) return;
    this.unsubscribe.push(
      this.events.on('anope.tokens.revoked', () => this.clear()),
      // The cluster bridge reconnected: revocations sent meanwhile were missed.
      this.events.on('cluster.resync', () => this.clear()),
    );
  }

  /** Stops listening (server stop). */
  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private clear(): void {
    this.generation++;
    this.cache.clear();
  }

  /** Creates a token; the returned `token` is the only time it is visible. */
  async create(label = ''): Promise<CreatedToken> {
    const token = `anope_${randomToken(24)}`;
    const [row] = (await this.db(this.names.tokens).insert({ hash: hashToken(token), label, created_at: new Date().toISOString() }, ['id'])) as Array<{ id: unknown } | number>;
    return { id: Number(typeof row === 'object' ? row.id : row), token };
  }

  /** Every stored token, oldest first. */
  async list(): Promise<TokenInfo[]> {
    const rows = (await this.db(this.names.tokens).select('id', 'label', 'created_at').orderBy('id')) as Array<{ id: unknown; label: string; created_at: string }>;
    return rows.map((r) => ({ id: Number(r.id), label: r.label, createdAt: r.created_at }));
  }

  /** Revokes a token; false when there was none with that id. */
  async revoke(id: number): Promise<boolean> {
    const deleted = await this.db(this.names.tokens).where('id', id).del();
    this.clear();
    this.events?.emit('anope.tokens.revoked', { at: Date.now() }, { cluster: true });
    return deleted > 0;
  }

  /** True when `token` is a stored token. */
  async verify(token: string): Promise<boolean> {
    const hash = hashToken(token);
    const until = this.cache.get(hash);
    const now = Date.now();
    if (until !== undefined && until > now) return true;
    const generation = this.generation;
    const row = await this.db(this.names.tokens).where('hash', hash).first('id');
    if (!row) {
      this.cache.delete(hash);
      return false;
    }
    // A revocation while this read ran: the read may predate it; ask again, remember nothing.
    if (generation !== this.generation) return (await this.db(this.names.tokens).where('hash', hash).first('id')) !== undefined;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(hash, now + TOKEN_CACHE_MS);
    return true;
  }

  /**
   * On the very first start (no token was ever generated or created), creates one and
   * returns it so that it can be shown once. Later starts, and concurrent first starts of
   * other instances, return undefined.
   */
  async generateFirst(): Promise<string | undefined> {
    return this.db.transaction(async (trx) => {
      const marker = await trx(this.names.settings).where('key', GENERATED_MARKER).first('key');
      if (marker) return undefined;
      const existing = await trx(this.names.tokens).first('id');
      const inserted = await trx(this.names.settings)
        .insert({ key: GENERATED_MARKER, value: new Date().toISOString() })
        .onConflict('key')
        .ignore()
        .returning('key');
      if ((inserted as unknown[]).length === 0 || existing) return undefined;
      const token = `anope_${randomToken(24)}`;
      await trx(this.names.tokens).insert({ hash: hashToken(token), label: 'generated at first start', created_at: new Date().toISOString() });
      return token;
    });
  }
}
