/**
 * The bot list (`GET /api/v1/bots`), kept in memory between changes.
 *
 * The list is read from the database and kept until something changes a bot or its run:
 * every write of the bot and run stores calls {@link BotListCache.changed}, which emits
 * `redball.bots.changed` on the event bus — with `{ cluster: true }`, so that once instances
 * share a database (and the kernel forwards cluster events between them) every instance
 * drops its copy — and every copy listening drops the list. A read that started before a
 * change never stores its (older) result: each load is tagged with the version it began at.
 */
import { compileSerializer, RawJson, Type, type EventBus } from '../../../src/index.js';
import { BotItem } from '../schemas.js';
import type { BotView } from './bot-store.js';

/**
 * The list's text is written by the serializer of its declared schema (the one the route
 * declares), so the pre-serialized answer carries no undeclared field either.
 */
const serializeList = compileSerializer(Type.Object({ bots: Type.Array(BotItem) }))!;

/** The cached bot list of one plugin instance. */
export class BotListCache {
  private version = 0;
  private cached?: { version: number; bots: readonly BotView[]; body?: RawJson };
  private unsubscribe?: () => void;

  /** @param events - the kernel's event bus (changes arrive and leave through it) */
  constructor(private readonly events: EventBus) {}

  /** Starts listening for changes (made here or, later, on other instances). */
  listen(): void {
    if (this.unsubscribe) return;
    const offChanged = this.events.on('redball.bots.changed', () => this.drop());
    // The cluster bridge reconnected: changes made elsewhere meanwhile were not announced here.
    const offResync = this.events.on('cluster.resync', () => this.drop());
    this.unsubscribe = () => {
      offChanged();
      offResync();
    };
  }

  /** Stops listening and forgets the list. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.drop();
  }

  /** Records that bots or runs changed: every cached copy is dropped. */
  changed(): void {
    this.drop();
    this.events.emit('redball.bots.changed', { at: Date.now() }, { cluster: true });
  }

  /** The cached list when it is current, else undefined (never loads). */
  peek(): readonly BotView[] | undefined {
    const hit = this.cached;
    return hit && hit.version === this.version && this.unsubscribe ? hit.bots : undefined;
  }

  /** The list: the cached copy, or `load()`'s result (kept unless a change happened meanwhile). */
  async get(load: () => Promise<BotView[]>): Promise<readonly BotView[]> {
    const hit = this.peek();
    if (hit) return hit;
    const version = this.version;
    const bots = await load();
    if (version === this.version && this.unsubscribe) this.cached = { version, bots };
    return bots;
  }

  /**
   * The list endpoint's response, `{"bots": [...]}`, serialized once per version of the list
   * (the list is ~18 kB for 50 bots; serializing it was a third of each request's work).
   */
  async body(load: () => Promise<BotView[]>): Promise<RawJson> {
    const bots = await this.get(load);
    const hit = this.cached;
    if (hit && hit.bots === bots) return (hit.body ??= new RawJson(serializeList({ bots })));
    return new RawJson(serializeList({ bots }));
  }

  private drop(): void {
    this.version++;
    this.cached = undefined;
  }
}
