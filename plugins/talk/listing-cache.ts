/**
 * A short-lived per-process cache of what moderators see at `GET bot/{token}` (the
 * busiest read of the family). SQLite serves every query of a process through one
 * connection, so under load each query waits for the event loop; caching the answer for a
 * moment keeps the endpoint as cheap as a plain route.
 *
 * The database stays the only source of truth: only successful answers are cached, for at
 * `cache.ttlMs` (default 1 s; an expired answer may still be served once while it is being
 * re-read, so for at most about twice that); every change this process makes to conversations,
 * participants or bots clears the cache at once and emits `talk.cache.invalidate` with
 * `cluster: true`, so that other instances (on PostgreSQL) clear theirs too — also after a
 * change made by the CLI, whose kernel sends cluster events. Where nothing forwards events
 * (SQLite, where the CLI is another process), such changes are visible after about two TTLs
 * at the latest; after the bridge reconnects (`cluster.resync`) the cache starts over.
 */
import { inject, injectable } from 'tsyringe';
import { compileSerializer, RawJson, Type, Tokens, type PluginContext } from '../../src/index.js';
import type { TalkConfig } from './config.js';
import type { TalkBot } from './formats.js';
import { hexTagJson } from './ocs.js';
import { TalkBotSchema } from './schemas.js';

/** At most this many entries; beyond, the cache starts over. */
const MAX_ENTRIES = 10_000;

/** The serializer of the route's declared `data`, so the text carries no undeclared field. */
const serializeBots = compileSerializer(Type.Array(TalkBotSchema))!;

/** One caller's answer at `GET bot/{token}`: the bots, and their JSON once it was asked for. */
export class BotListing {
  private json?: RawJson;

  /** @param bots - the bots the caller sees */
  constructor(readonly bots: TalkBot[]) {}

  /**
   * The bots as the answer's `data`, serialized the way the route's own serializer writes them
   * (with PHP's `JSON_HEX_TAG`), once for every request the cached answer serves.
   */
  get text(): RawJson {
    return (this.json ??= new RawJson(hexTagJson(this.bots, serializeBots)));
  }
}

/** Cached `GET bot/{token}` answers by conversation and caller. */
@injectable()
export class ListingCache {
  private readonly entries = new Map<string, { expires: number; listing: BotListing }>();
  private readonly ttlMs: number;
  private generation = 0;
  private readonly inflight = new Map<string, Promise<BotListing>>();

  /** @param ctx - the plugin context (config, events) */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext<TalkConfig>) {
    this.ttlMs = ctx.config.cache.ttlMs;
  }

  /** Clears the cache when any instance announces a change (once, at init). */
  listen(): void {
    this.ctx.events.on('talk.cache.invalidate', () => this.clear());
    // The cluster bridge reconnected: invalidations sent meanwhile were missed.
    this.ctx.events.on('cluster.resync', () => this.clear());
  }

  private key(token: string, actorType: string, actorId: string): string {
    return `${token}\u0000${actorType}\u0000${actorId}`;
  }

  /**
   * A cached answer: fresh (younger than the TTL), or `stale` (younger than twice the TTL;
   * the caller serves it and refreshes in the background, so that expiry never makes every
   * waiting request queue for the database at once). Undefined when there is none.
   */
  get(token: string, actorType: string, actorId: string): { listing: BotListing; stale: boolean } | undefined {
    if (this.ttlMs <= 0) return undefined;
    const k = this.key(token, actorType, actorId);
    const hit = this.entries.get(k);
    if (!hit) return undefined;
    const now = Date.now();
    if (hit.expires > now) return { listing: hit.listing, stale: false };
    if (hit.expires + this.ttlMs > now) return { listing: hit.listing, stale: true };
    this.entries.delete(k);
    return undefined;
  }

  /** Forgets one caller's answer (after a background refresh failed). */
  drop(token: string, actorType: string, actorId: string): void {
    this.entries.delete(this.key(token, actorType, actorId));
  }

  /**
   * Runs `read` once for concurrent callers with the same key (without caching a failure).
   * With the cache off, every caller reads.
   */
  singleFlight(token: string, actorType: string, actorId: string, read: () => Promise<BotListing>): Promise<BotListing> {
    if (this.ttlMs <= 0) return read();
    const k = this.key(token, actorType, actorId);
    const running = this.inflight.get(k);
    if (running) return running;
    const p = read().finally(() => this.inflight.delete(k));
    this.inflight.set(k, p);
    return p;
  }

  /** A stamp to take before reading the database; pass it to {@link set}. */
  stamp(): { generation: number; at: number } {
    return { generation: this.generation, at: Date.now() };
  }

  /** Remembers an answer read from the database, unless something changed since the read began. */
  set(token: string, actorType: string, actorId: string, listing: BotListing, stamp: { generation: number; at: number }): void {
    if (this.ttlMs <= 0 || stamp.generation !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(this.key(token, actorType, actorId), { expires: stamp.at + this.ttlMs, listing });
  }

  /** Forgets everything here and tells the other instances to do the same. */
  invalidate(): void {
    this.clear();
    this.ctx.events.emit('talk.cache.invalidate', { at: Date.now() }, { cluster: true });
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
