/**
 * Values read from the database, kept in memory until a change is announced.
 *
 * Every write that can change a kept value calls {@link ChangeTrackedCache.changed}, which
 * drops every kept value here and emits the cache's event on the event bus with
 * `{ cluster: true }`, so that once instances share a database (and the kernel forwards
 * cluster events between them) every instance drops its copies too. A `cluster.resync` (the
 * bridge reconnected, and changes made elsewhere meanwhile were not announced) drops them as
 * well. A read that started before a change never keeps its (older) result: each load is
 * tagged with the version it began at. Nothing is kept before {@link listen} (the CLI, which
 * hears no other process's changes) or after {@link close}.
 */
import type { EventBus } from '../../../src/index.js';

/** The events that announce a change to what a {@link ChangeTrackedCache} keeps. */
export type ChangeEvent = 'redball.bots.changed' | 'redball.settings.changed';

/** A cache of values by key, dropped as a whole on every announced change. */
export class ChangeTrackedCache<K, V> {
  private version = 0;
  private readonly kept = new Map<K, V>();
  private unsubscribe?: () => void;

  /**
   * @param events - the kernel's event bus (changes arrive and leave through it)
   * @param event - the event that announces a change, e.g. `redball.bots.changed`
   */
  constructor(
    private readonly events: EventBus,
    private readonly event: ChangeEvent,
  ) {}

  /** Starts listening for changes (made here or on other instances) and keeping values. */
  listen(): void {
    if (this.unsubscribe) return;
    const offChanged = this.events.on(this.event, () => this.drop());
    const offResync = this.events.on('cluster.resync', () => this.drop());
    this.unsubscribe = () => {
      offChanged();
      offResync();
    };
  }

  /** Stops listening and forgets every value. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.drop();
  }

  /** Records a change: every value here is dropped, and other instances are told. */
  changed(): void {
    this.drop();
    this.events.emit(this.event, { at: Date.now() }, { cluster: true });
  }

  /** The value kept for `key` when it is current, else undefined (never loads). */
  peek(key: K): V | undefined {
    return this.unsubscribe ? this.kept.get(key) : undefined;
  }

  /** The value for `key`: the kept one, or `load()`'s result (kept unless a change happened meanwhile). */
  async get(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return hit;
    const version = this.version;
    const value = await load();
    if (version === this.version && this.unsubscribe) this.kept.set(key, value);
    return value;
  }

  private drop(): void {
    this.version++;
    this.kept.clear();
  }
}
