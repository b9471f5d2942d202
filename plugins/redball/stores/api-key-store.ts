/**
 * API keys: redball's `apikey` parameter. Keys come from the plugin's configuration
 * (`apiKeys`) and from the CLI (`switchboard redball apikey create`). Only SHA-256 hashes are
 * stored; a presented key is hashed and compared in constant time with every known hash.
 *
 * The hashes of CLI-created keys are cached for {@link API_KEY_CACHE_MS}, so a key created or
 * revoked by the CLI (another process) takes effect on a running server within that time
 * without a database query per request.
 */
import { inject, injectable } from 'tsyringe';
import { hashToken, randomToken, safeEqual, Tokens, type PluginContext, type Principal } from '../../../src/index.js';

/** How long the stored key hashes are cached, ms. */
export const API_KEY_CACHE_MS = 1000;

/** A stored key as `apikey list` shows it: never the key itself. */
export interface ApiKeyInfo {
  /** The key's id (what `revoke` takes). */
  id: number;
  /** A label given at creation. */
  name: string;
  /** When it was created (ISO 8601). */
  createdAt: string;
  /** The first 8 hex digits of the key's hash, to tell keys apart. */
  fingerprint: string;
}

interface KeyHash {
  id: string;
  hash: string;
}

/** Creates, lists, revokes and verifies API keys. */
@injectable()
export class ApiKeyStore {
  private readonly table: string;
  private configured: KeyHash[] = [];
  private cache?: { at: number; keys: KeyHash[] };
  private loading?: Promise<KeyHash[]>;

  /** @param ctx - the plugin context (database, dialect, table names) */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('api_keys');
  }

  /** Sets the keys from the configuration (kept only as hashes). */
  setConfigured(keys: readonly string[]): void {
    this.configured = keys.map((k, i) => ({ id: `config:${i + 1}`, hash: hashToken(k) }));
  }

  /** Creates a key; returns its id and the key, which is shown once and never stored. */
  async create(name: string): Promise<{ id: number; key: string }> {
    const key = randomToken(24);
    const id = await this.ctx.dialect.insertId(this.ctx.db, this.table, { name, key_hash: hashToken(key), created_at: this.ctx.dialect.toDate(new Date()) });
    this.cache = undefined;
    return { id, key };
  }

  /** The stored keys, without the keys. */
  async list(): Promise<ApiKeyInfo[]> {
    const rows: Array<{ id: number | string; name: string; key_hash: string; created_at: string }> = await this.ctx.db(this.table).select('id', 'name', 'key_hash', 'created_at').orderBy('id');
    return rows.map((r) => ({ id: Number(r.id), name: r.name, createdAt: r.created_at, fingerprint: r.key_hash.slice(0, 8) }));
  }

  /** Revokes (deletes) a stored key. Returns false when there is no such key. */
  async revoke(id: number): Promise<boolean> {
    const n = await this.ctx.db(this.table).where({ id }).delete();
    this.cache = undefined;
    return n > 0;
  }

  /** The principal of a known key, or null. Every known hash is compared, in constant time each. */
  async verify(key: string): Promise<Principal | null> {
    const hash = hashToken(key);
    const stored = await this.storedHashes();
    let found: string | undefined;
    for (const k of this.configured) if (safeEqual(hash, k.hash)) found ??= k.id;
    for (const k of stored) if (safeEqual(hash, k.hash)) found ??= k.id;
    return found ? { id: found, kind: 'apikey' } : null;
  }

  private async storedHashes(): Promise<KeyHash[]> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < API_KEY_CACHE_MS) return this.cache.keys;
    this.loading ??= (async () => {
      try {
        const rows: Array<{ id: number | string; key_hash: string }> = await this.ctx.db(this.table).select('id', 'key_hash');
        const keys = rows.map((r) => ({ id: `key:${Number(r.id)}`, hash: r.key_hash }));
        this.cache = { at: Date.now(), keys };
        return keys;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
