/**
 * The bot list (`GET /api/v1/bots`), kept in memory between changes.
 *
 * The list is read from the database and kept until something changes a bot or its run:
 * every write of the bot and run stores calls {@link BotListCache.changed}, which announces
 * `redball.bots.changed` to every instance (see {@link ChangeTrackedCache}).
 */
import { compileSerializer, RawJson, Type, type EventBus } from '../../../src/index.js';
import { BotItem } from '../schemas.js';
import { ChangeTrackedCache } from './change-tracked-cache.js';
import type { BotView } from './bot-store.js';

/**
 * The list's text is written by the serializer of its declared schema (the one the route
 * declares), so the pre-serialized answer carries no undeclared field either.
 */
const serializeList = compileSerializer(Type.Object({ bots: Type.Array(BotItem) }))!;

/** One version of the list, with its text once it was asked for. */
interface ListEntry {
  bots: readonly BotView[];
  body?: RawJson;
}

/** The text of a version of the list, serialized the first time it is asked for. */
function textOf(entry: ListEntry): RawJson {
  return (entry.body ??= new RawJson(serializeList({ bots: entry.bots })));
}

/** The cached bot list of one plugin instance (a {@link ChangeTrackedCache} of one entry). */
export class BotListCache {
  private readonly cache: ChangeTrackedCache<'list', ListEntry>;

  /** @param events - the kernel's event bus (changes arrive and leave through it) */
  constructor(events: EventBus) {
    this.cache = new ChangeTrackedCache(events, 'redball.bots.changed');
  }

  /** Starts listening for changes (made here or, later, on other instances). */
  listen(): void {
    this.cache.listen();
  }

  /** Stops listening and forgets the list. */
  close(): void {
    this.cache.close();
  }

  /** Records that bots or runs changed: every cached copy is dropped. */
  changed(): void {
    this.cache.changed();
  }

  /** The cached list when it is current, else undefined (never loads). */
  peek(): readonly BotView[] | undefined {
    return this.cache.peek('list')?.bots;
  }

  /** The list: the cached copy, or `load()`'s result (kept unless a change happened meanwhile). */
  async get(load: () => Promise<BotView[]>): Promise<readonly BotView[]> {
    return (await this.entry(load)).bots;
  }

  /**
   * The list endpoint's response, `{"bots": [...]}`, serialized once per version of the list
   * (the list is ~18 kB for 50 bots; serializing it was a third of each request's work).
   */
  body(load: () => Promise<BotView[]>): RawJson | Promise<RawJson> {
    // The kept list answers at once, not as a promise: the request stays synchronous.
    const kept = this.cache.peek('list');
    return kept ? textOf(kept) : this.entry(load).then(textOf);
  }

  private entry(load: () => Promise<BotView[]>): Promise<ListEntry> {
    return this.cache.get('list', async () => ({ bots: await load() }));
  }
}
