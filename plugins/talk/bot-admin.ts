/**
 * Bot administration, as the original's occ commands (`talk:bot:install`, `uninstall`,
 * `list`, `state`, `setup`, `remove`) with their validation rules, messages and exit codes,
 * plus what moderators do over OCS (enable and disable a bot in their conversation).
 *
 * Validation (`BotService::validateBotParameters`, lengths in bytes as PHP's `strlen`):
 * name 1–64, secret 40–128, url at most 4000 and `http://`/`https://` (or
 * `responseonly://`; `nextcloudapp://` is refused here), description at most 4000. The same
 * URL again exits 2, the same secret again exits 3, every other refusal exits 1.
 */
import crypto from 'node:crypto';
import type { Request } from 'express';
import { inject, injectable } from 'tsyringe';
import { andThen, Tokens, type PluginContext, type RawJson } from '../../src/index.js';
import { BotDelivery } from './bot-delivery.js';
import type { TalkConfig } from './config.js';
import {
  BotFeature,
  BotState,
  DEFAULT_FEATURES,
  RoomType,
  URL_APP_PREFIX,
  URL_RESPONSE_ONLY_PREFIX,
  ParticipantType,
  featureFlagsToLabels,
  isModeratorType,
  featureLabelsToFlags,
} from './constants.js';
import { BotListing, ListingCache } from './listing-cache.js';
import { formatBotForRoom, formatBotWithDetails, type TalkBot, type TalkBotWithDetails } from './formats.js';
import { talkError } from './ocs.js';
import { BotStore } from './stores/bots.js';
import { RoomStore } from './stores/rooms.js';
import { nowSeconds, type BotRow, type RoomRow } from './stores/rows.js';

/** A refused bot administration request, with the exit code the original's command uses. */
export class TalkBotError extends Error {
  /**
   * @param exitCode - 1 validation or not found, 2 duplicate URL (or unknown conversation on setup), 3 duplicate secret (or already set up)
   * @param message - the original's message
   */
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'TalkBotError';
  }
}

/** What `install` takes (the arguments and options of `talk:bot:install`). */
export interface InstallInput {
  /** Display name (1–64 bytes). */
  name: string;
  /** Shared secret (40–128 bytes). */
  secret: string;
  /** Webhook URL (`http://`, `https://` or `responseonly://`; at most 4000 bytes). */
  url: string;
  /** Description (at most 4000 bytes). */
  description?: string;
  /** Only administrators may set it up (`--no-setup`, state 2). */
  noSetup?: boolean;
  /** Features as labels (`webhook`, `response`, `event`, `reaction`, `none`) or flags; default webhook + response. */
  features?: readonly string[] | number;
}

/** The outcome of `setup`/`remove` for several conversations: per-token lines and the exit code. */
export interface BatchResult {
  /** 0 when all went well, else the original's code of the last failure. */
  exitCode: number;
  /** One line per conversation (success or error). */
  lines: Array<{
    /** Whether the line reports success (else it goes to standard error). */
    ok: boolean;
    /** The line. */
    text: string;
  }>;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const MODERATOR_TYPES = [ParticipantType.Owner, ParticipantType.Moderator, ParticipantType.GuestModerator];

/** Installs, lists, changes and removes bots; enables and disables them in conversations. */
@injectable()
export class BotAdmin {
  /**
   * @param ctx - the plugin context
   * @param bots - the bot store
   * @param rooms - the conversation store
   * @param delivery - Join/Leave webhooks and the secret cache
   * @param cache - cached moderator listings, cleared on every change
   * @internal Resolved from the plugin container, not constructed by hand.
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext<TalkConfig>,
    private readonly bots: BotStore,
    private readonly rooms: RoomStore,
    private readonly delivery: BotDelivery,
    private readonly cache: ListingCache,
  ) {}

  /** Checks the install parameters as `BotService::validateBotParameters` does; throws exit code 1. */
  validate(name: string, secret: string, url: string, description: string): void {
    const nameLength = bytes(name);
    if (nameLength === 0 || nameLength > 64) throw new TalkBotError(1, 'The provided name is too short or too long (min. 1 char, max. 64 chars)');
    const secretLength = bytes(secret);
    if (secretLength < 40 || secretLength > 128) throw new TalkBotError(1, 'The provided secret is too short (min. 40 chars, max. 128 chars)');
    if (url.startsWith(URL_APP_PREFIX)) throw new TalkBotError(1, 'Nextcloud app bots (nextcloudapp://) are not supported: this server has no Nextcloud apps');
    if (!url || bytes(url) > 4000 || !isAcceptedUrl(url)) throw new TalkBotError(1, 'The provided URL is not a valid URL');
    if (bytes(description) > 4000) throw new TalkBotError(1, 'The provided description is too long (max. 4000 chars)');
  }

  /** Installs a bot (`talk:bot:install`). Returns it without its secret. */
  async install(input: InstallInput): Promise<TalkBotWithDetails> {
    const name = String(input.name ?? '');
    const secret = String(input.secret ?? '');
    const url = String(input.url ?? '');
    const description = String(input.description ?? '');
    let features = DEFAULT_FEATURES as number;
    if (typeof input.features === 'number') {
      if (!Number.isInteger(input.features) || input.features < 0 || input.features > 15) throw new TalkBotError(1, `Invalid feature flags: ${input.features}`);
      features = input.features;
    } else if (input.features && input.features.length > 0) {
      const parsed = featureLabelsToFlags(input.features);
      if (parsed.unknown.length > 0) throw new TalkBotError(1, `Unknown feature: ${parsed.unknown.join(', ')} (known: webhook, response, event, reaction, none)`);
      features = parsed.flags;
    }
    this.validate(name, secret, url, description);
    // A response-only bot never receives anything.
    if (url.startsWith(URL_RESPONSE_ONLY_PREFIX)) features &= ~(BotFeature.Webhook | BotFeature.Reaction | BotFeature.Event);
    const urlHash = sha1(url);
    if (await this.bots.byUrlHash(urlHash)) throw new TalkBotError(2, 'Bot with the same URL is already registered');
    if (await this.bots.secretInUse(secret)) throw new TalkBotError(3, 'Bot with the same secret is already registered');
    const state = input.noSetup ? BotState.NoSetup : BotState.Enabled;
    let id: number;
    try {
      id = await this.bots.insert(this.ctx.db, { name, url, urlHash, description, secret, state, features }, nowSeconds());
    } catch (err) {
      if (!this.ctx.dialect.isUniqueViolation(err)) throw err;
      // Installed concurrently: tell which uniqueness was hit.
      if (await this.bots.byUrlHash(urlHash)) throw new TalkBotError(2, 'Bot with the same URL is already registered');
      throw new TalkBotError(3, 'Bot with the same secret is already registered');
    }
    this.delivery.remember({ url, secret });
    this.cache.invalidate();
    this.ctx.logger.info({ bot: id, name, features: featureFlagsToLabels(features), state }, 'bot installed');
    return formatBotWithDetails((await this.bots.byId(id))!);
  }

  /** Uninstalls a bot by id, or by URL when no id is given (`talk:bot:uninstall`). Exit 1 `Bot not found`. */
  async uninstall(target: { id?: number; url?: string }): Promise<void> {
    let bot: BotRow | undefined;
    if (target.id) bot = await this.bots.byId(target.id);
    else if (target.url) bot = await this.bots.byUrlHash(sha1(target.url));
    if (!bot) throw new TalkBotError(1, 'Bot not found');
    await this.ctx.db.transaction(async (trx) => {
      await this.bots.delete(bot.id, trx);
    });
    // Webhooks still waiting for the bot are dropped: no instance signs for a removed bot.
    await this.ctx.outbox.cancel(`bot:${bot.id}`);
    this.delivery.forget(bot);
    this.cache.invalidate();
    this.ctx.logger.info({ bot: bot.id }, 'bot uninstalled');
  }

  /** Every bot (or those set up in one conversation), never with secrets. */
  async list(token?: string): Promise<TalkBotWithDetails[]> {
    if (token !== undefined) {
      const room = await this.rooms.byToken(token);
      if (!room) return [];
      return (await this.bots.allForRoom(room.id)).filter((b) => b.setUp).map((b) => formatBotWithDetails(b.bot));
    }
    return (await this.bots.all()).map(formatBotWithDetails);
  }

  /** One bot without its secret. */
  async get(id: number): Promise<TalkBotWithDetails | undefined> {
    const bot = await this.bots.byId(id);
    return bot ? formatBotWithDetails(bot) : undefined;
  }

  /** Changes a bot's state (0, 1, 2) and optionally its features (`talk:bot:state`). */
  async setState(id: number, state: number, features?: readonly string[] | number): Promise<TalkBotWithDetails> {
    if (state !== BotState.Disabled && state !== BotState.Enabled && state !== BotState.NoSetup) throw new TalkBotError(1, 'Provided state is invalid');
    let flags: number | undefined;
    if (typeof features === 'number') flags = features;
    else if (features && features.length > 0) {
      const parsed = featureLabelsToFlags(features);
      if (parsed.unknown.length > 0) throw new TalkBotError(1, `Unknown feature: ${parsed.unknown.join(', ')} (known: webhook, response, event, reaction, none)`);
      flags = parsed.flags;
    }
    const bot = await this.bots.byId(id);
    if (!bot) throw new TalkBotError(1, `Bot could not be found by id: ${id}`);
    if (flags !== undefined && bot.url.startsWith(URL_RESPONSE_ONLY_PREFIX)) throw new TalkBotError(1, 'Feature flags of response-only bots cannot be changed');
    await this.bots.update(id, { state, features: flags });
    this.cache.invalidate();
    return formatBotWithDetails((await this.bots.byId(id))!);
  }

  /**
   * Sets a bot up in conversations as an administrator (`talk:bot:setup`), also no-setup
   * bots; each new set-up sends the bot a `Join`. Exit 1 unknown bot or bot disabled, 2
   * unknown conversation, 3 already set up.
   */
  async setup(botId: number, tokens: readonly string[], backendUrl?: string): Promise<BatchResult> {
    const bot = await this.bots.byId(botId);
    if (!bot) throw new TalkBotError(1, `Bot could not be found by id: ${botId}`);
    const result: BatchResult = { exitCode: 0, lines: [] };
    for (const token of tokens) {
      const room = await this.rooms.byToken(token);
      if (!room) {
        result.exitCode = 2;
        result.lines.push({ ok: false, text: `Conversation could not be found by token: ${token}` });
        continue;
      }
      const added = await this.ctx.db.transaction(async (trx) => {
        const ok = await this.bots.setUp(trx, bot.id, room.id);
        if (ok) await this.delivery.botJoined(trx, room, bot, backendUrl ?? this.delivery.backendUrl());
        return ok;
      });
      if (!added) {
        result.exitCode = 3;
        result.lines.push({ ok: false, text: `Bot is already set up for the conversation ${token}` });
        continue;
      }
      this.cache.invalidate();
      this.ctx.events.emit('talk.bot.enabled', { botId: bot.id, token });
      result.lines.push({ ok: true, text: `Successfully set up for conversation ${token}` });
    }
    return result;
  }

  /** Removes a bot from conversations (`talk:bot:remove`); each removal sends the bot a `Leave`. */
  async remove(botId: number, tokens: readonly string[], backendUrl?: string): Promise<BatchResult> {
    const bot = await this.bots.byId(botId);
    for (const token of tokens) {
      const room = bot ? await this.rooms.byToken(token) : undefined;
      if (!bot || !room) continue;
      const removed = await this.ctx.db.transaction(async (trx) => {
        const ok = await this.bots.tearDown(trx, bot.id, room.id);
        if (ok) await this.delivery.botLeft(trx, room, bot, backendUrl ?? this.delivery.backendUrl());
        return ok;
      });
      if (removed) {
        this.cache.invalidate();
        this.ctx.events.emit('talk.bot.disabled', { botId: bot.id, token });
      }
    }
    return { exitCode: 0, lines: [{ ok: true, text: 'Remove bot from given conversations' }] };
  }

  /**
   * `GET bot/{token}` in one query: 404 when the conversation does not exist or the caller
   * is not in it, 403 when the caller does not moderate it, else the bots moderators see.
   * A cached answer is returned as it is, not as a promise, so that the request stays
   * synchronous.
   */
  listForModerator(token: string, actor: { type: string; id: string }): TalkBot[] | Promise<TalkBot[]> {
    return andThen(this.listing(token, actor), (listing) => listing.bots);
  }

  /**
   * {@link listForModerator}'s answer as the route writes it: the bots' JSON, serialized once
   * per cached answer rather than once per request.
   */
  listTextForModerator(token: string, actor: { type: string; id: string }): RawJson | Promise<RawJson> {
    return andThen(this.listing(token, actor), (listing) => listing.text);
  }

  private listing(token: string, actor: { type: string; id: string }): BotListing | Promise<BotListing> {
    const read = () =>
      // Concurrent reads for the same caller share one query.
      this.cache.singleFlight(token, actor.type, actor.id, async () => {
        const stamp = this.cache.stamp();
        const found = await this.bots.listingForModerator(token, actor.type, actor.id, MODERATOR_TYPES);
        if (!found.exists || found.participantType === undefined) throw talkError(404);
        if (!isModeratorType(found.participantType)) throw talkError(403);
        const out: TalkBot[] = [];
        for (const { bot, setUp } of found.bots) {
          const formatted = formatBotForRoom(bot, setUp);
          if (formatted) out.push(formatted);
        }
        const listing = new BotListing(out);
        this.cache.set(token, actor.type, actor.id, listing, stamp);
        return listing;
      });
    const cached = this.cache.get(token, actor.type, actor.id);
    if (!cached) return read();
    if (cached.stale) read().catch(() => this.cache.drop(token, actor.type, actor.id));
    return cached.listing;
  }

  /** The bots a conversation's moderators see (`GET bot/{token}`). */
  async forRoom(room: RoomRow): Promise<TalkBot[]> {
    const out: TalkBot[] = [];
    for (const { bot, setUp } of await this.bots.allForRoom(room.id)) {
      const formatted = formatBotForRoom(bot, setUp);
      if (formatted) out.push(formatted);
    }
    return out;
  }

  /**
   * A moderator enables a bot (`POST bot/{token}/{botId}`): 400 `{error: bot}` for an unknown
   * bot or one whose server state is not 1, 400 `{error: room}` for a former one-to-one
   * conversation; 200 when already enabled; else 201 and a `Join` to the bot.
   */
  async enable(room: RoomRow, botId: number, req?: Request): Promise<{
    /** 201 when enabled now, 200 when it already was. */
    status: 200 | 201;
    /** The bot. */
    bot: TalkBot;
  }> {
    if (room.type === RoomType.OneToOneFormer) throw talkError(400, { error: 'room' });
    const bot = await this.bots.byId(botId);
    if (!bot || bot.state !== BotState.Enabled) throw talkError(400, { error: 'bot' });
    const backendUrl = this.delivery.backendUrl(req);
    const created = await this.ctx.db.transaction(async (trx) => {
      const ok = await this.bots.setUp(trx, bot.id, room.id);
      if (ok) await this.delivery.botJoined(trx, room, bot, backendUrl);
      return ok;
    });
    if (created) {
      this.cache.invalidate();
      this.ctx.events.emit('talk.bot.enabled', { botId: bot.id, token: room.token });
    }
    return { status: created ? 201 : 200, bot: formatBotForRoom(bot, true)! };
  }

  /**
   * A moderator disables a bot (`DELETE bot/{token}/{botId}`): 400 `{error: bot}` for an
   * unknown bot or one whose server state is not 1; else 200 with state 0, and a `Leave`
   * when it was enabled.
   */
  async disable(room: RoomRow, botId: number, req?: Request): Promise<TalkBot> {
    const bot = await this.bots.byId(botId);
    if (!bot || bot.state !== BotState.Enabled) throw talkError(400, { error: 'bot' });
    const backendUrl = this.delivery.backendUrl(req);
    const removed = await this.ctx.db.transaction(async (trx) => {
      const ok = await this.bots.tearDown(trx, bot.id, room.id);
      if (ok) await this.delivery.botLeft(trx, room, bot, backendUrl);
      return ok;
    });
    if (removed) {
      this.cache.invalidate();
      this.ctx.events.emit('talk.bot.disabled', { botId: bot.id, token: room.token });
    }
    return formatBotForRoom(bot, false)!;
  }
}

/** sha1 of a bot URL: its `url_hash`. */
export function sha1(text: string): string {
  return crypto.createHash('sha1').update(text, 'utf8').digest('hex');
}

function isAcceptedUrl(url: string): boolean {
  if (url.startsWith(URL_RESPONSE_ONLY_PREFIX)) return url.length > URL_RESPONSE_ONLY_PREFIX.length;
  if (!url.startsWith('http://') && !url.startsWith('https://')) return false;
  try {
    const parsed = new URL(url);
    return parsed.hostname !== '';
  } catch {
    return false;
  }
}
