/**
 * API keys: redball's `apikey` parameter. Keys come from the plugin's configuration
 * (`apiKeys`) and from the CLI (`switchboard redball apikey create`). Only SHA-256 hashes are
 * stored; a presented key is hashed and compared in constant time with every known hash.
 *
 * The hashes of CLI-created keys are cached for `apiKeyCacheMs` (default {@link API_KEY_CACHE_MS}), so a request costs
 * no database query. In the second half of that time the next request starts a re-read in
 * the background and is answered from the copy that is still valid, so under steady traffic
 * no request waits for the database. Creating or revoking a key announces `redball.apikeys.changed`
 * cluster-wide: on PostgreSQL every running instance drops its copy at once, also when the
 * CLI made the change; otherwise (SQLite, where the CLI is another process) a change takes
 * effect within that time.
 */
import crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { andThen, hashToken, randomToken, Tokens, type PluginContext, type Principal } from '../../../src/index.js';

/** How long the stored key hashes are cached by default, ms (the `apiKeyCacheMs` setting). */
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
  /** The key's SHA-256, as hex text (as stored) read into bytes. */
  digest: Buffer;
}

function keyHash(id: string, hash: string): KeyHash {
  return { id, digest: Buffer.from(hash, 'hex') };
}

/** Creates, lists, revokes and verifies API keys. */
@injectable()
export class ApiKeyStore {
  private readonly table: string;
  private configured: KeyHash[] = [];
  private cache?: { at: number; keys: KeyHash[] };
  private loading?: Promise<KeyHash[]>;
  private generation = 0;
  private loadingGeneration = 0;
  private cacheMs = API_KEY_CACHE_MS;
  private unsubscribe: Array<() => void> = [];

  /** @param ctx - the plugin context (database, dialect, table names) */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('api_keys');
  }

  /** Sets how long the stored key hashes are cached, ms. */
  setCacheMs(ms: number): void {
    this.cacheMs = ms;
  }

  /** Sets the keys from the configuration (kept only as hashes). */
  setConfigured(keys: readonly string[]): void {
    this.configured = keys.map((k, i) => keyHash(`config:${i + 1}`, hashToken(k)));
  }

  /** Drops the cached hashes whenever any instance (or the CLI) changes keys (server start). */
  listen(): void {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe.push(
      this.ctx.events.on('redball.apikeys.changed', () => this.drop()),
      this.ctx.events.on('cluster.resync', () => this.drop()),
    );
  }

  /** Stops listening (server stop). */
  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private drop(): void {
    this.generation++;
    this.cache = undefined;
  }

  private changed(): void {
    this.drop();
    this.ctx.events.emit('redball.apikeys.changed', { at: Date.now() }, { cluster: true });
  }

  /** Creates a key; returns its id and the key, which is shown once and never stored. */
  async create(name: string): Promise<{
    /** The key's id (for revoking it). */
    id: number;
    /** The key itself. */
    key: string;
  }> {
    const key = randomToken(24);
    const id = await this.ctx.dialect.insertId(this.ctx.db, this.table, { name, key_hash: hashToken(key), created_at: this.ctx.dialect.toDate(new Date()) });
    this.changed();
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
    this.changed();
    return n > 0;
  }

  /**
   * The principal of a known key, or null. The key's hash is compared with every known hash,
   * in constant time each (hashes have one length, so no second hashing is needed to hide
   * one). While the stored hashes are in memory the answer comes at once, not as a promise.
   */
  verify(key: string): Principal | null | Promise<Principal | null> {
    const given = Buffer.from(hashToken(key), 'hex');
    const matches = (k: KeyHash) => k.digest.length === given.length && crypto.timingSafeEqual(given, k.digest);
    return andThen(this.storedHashes(), (stored) => {
      let found: string | undefined;
      for (const k of this.configured) if (matches(k)) found ??= k.id;
      for (const k of stored) if (matches(k)) found ??= k.id;
      return found ? { id: found, kind: 'apikey' } : null;
    });
  }

  private storedHashes(): KeyHash[] | Promise<KeyHash[]> {
    if (this.cache) {
      const age = Date.now() - this.cache.at;
      if (age < this.cacheMs) {
        if (age >= this.cacheMs / 2) this.reload().catch((err: unknown) => this.ctx.logger.warn({ err }, 'could not re-read the API keys'));
        return this.cache.keys;
      }
    }
    return this.reload();
  }

  /** Reads the stored hashes (one read at a time); the copy counts from when the read began. */
  private reload(): Promise<KeyHash[]> {
    const generation = this.generation;
    // A read that began before a change must neither be kept nor answer after it.
    if (this.loadingGeneration !== generation) this.loading = undefined;
    this.loadingGeneration = generation;
    if (!this.loading) {
      const began = Date.now();
      const loading: Promise<KeyHash[]> = this.ctx
        .db(this.table)
        .select('id', 'key_hash')
        .then((rows: Array<{ id: number | string; key_hash: string }>) => {
          const keys = rows.map((r) => keyHash(`key:${Number(r.id)}`, r.key_hash));
          if (generation === this.generation) this.cache = { at: began, keys };
          return keys;
        })
        .finally(() => {
          if (this.loading === loading) this.loading = undefined;
        });
      this.loading = loading;
    }
    return this.loading;
  }
}
