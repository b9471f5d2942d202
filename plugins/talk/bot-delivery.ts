/**
 * Webhooks to bots, as Talk's `BotService` sends them, through the kernel's durable outbox:
 *
 * - Activity Streams 2.0 bodies: `Create` for a chat message, `Join`/`Leave` when a bot is
 *   enabled in or removed from a conversation, `Like`/`Undo` for reactions;
 * - enqueued in the caller's transaction, so a message and its webhooks commit together;
 * - signed on every attempt by the `talk-bot` signer over the exact bytes sent:
 *   `X-Nextcloud-Talk-Random` (64 random characters) and `X-Nextcloud-Talk-Signature` =
 *   hex HMAC-SHA256(random + body) keyed with the bot's secret;
 * - only 200 and 202 count as delivered; every failed attempt raises the bot's
 *   `error_count` and sets `last_error_date` and `last_error_message`.
 *
 * The signer finds the bot's secret by the delivery's owner reference (`bot:<id>`): a bot
 * id's secret never changes (a bot is reinstalled under a new id), so secrets are kept in
 * memory by id once read, and a delivery enqueued by another instance, for a bot installed
 * there or by the CLI, is signed after one lookup instead of failing its first attempt.
 */
import crypto from 'node:crypto';
import type { Request } from 'express';
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { ErrorCodes, Tokens, isSwitchboardError, type AttemptOutcome, type Counter, type DeliveryInput, type PluginContext } from '../../src/index.js';
import { ActorType, BOT_ACTOR_PREFIX, BotFeature } from './constants.js';
import type { TalkConfig } from './config.js';
import { BotStore } from './stores/bots.js';
import type { AttendeeRow, BotRow, MessageRow, RoomRow } from './stores/rows.js';
import { nowSeconds } from './stores/rows.js';

/** The name of the outbox signer of bot webhooks. */
export const BOT_SIGNER = 'talk-bot';
/** Fallback for `X-Nextcloud-Talk-Backend` when neither config nor request tells. */
export const FALLBACK_BACKEND_URL = 'http://localhost/';

/** Who did something that bots hear about. */
export interface ActivityActor {
  /** `users`, `guests` or `bots`. */
  type: string;
  /** The actor id. */
  id: string;
  /** Display name. */
  displayName: string;
}

/** Signs `random + body` with a secret as Talk does: lower-case hex HMAC-SHA256. */
export function talkSignature(secret: string, random: string, body: Buffer | string): string {
  return crypto.createHmac('sha256', secret).update(random).update(body).digest('hex');
}

/** 64 random characters from `[A-Za-z0-9+/]`, like Nextcloud's `ISecureRandom::generate(64)`. */
export function talkRandom(): string {
  return crypto.randomBytes(48).toString('base64');
}

/** True when a bot's URL can receive webhooks (http or https). */
export function isWebhookUrl(url: string): boolean {
  return url.startsWith('http://') || url.startsWith('https://');
}

/** Enqueues signed webhooks to bots and accounts for their failures. */
@injectable()
export class BotDelivery {
  private readonly secretsByUrl = new Map<string, string>();
  private readonly secretsById = new Map<number, string>();
  private reloading?: Promise<void>;
  private deliveries?: Counter<'outcome'>;

  /**
   * @param ctx - the plugin context (outbox, config, logger)
   * @param bots - the bot store
   * @internal Resolved from the plugin container, not constructed by hand.
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext<TalkConfig>,
    private readonly bots: BotStore,
  ) {}

  /** Registers the signer and the attempt listener with the outbox (once, at init). */
  register(): void {
    this.ctx.outbox.registerSigner(BOT_SIGNER, async ({ body, url, ownerRef }) => {
      const secret = await this.secretFor(url, ownerRef);
      if (secret === undefined) throw new Error('No installed bot has this URL any more');
      const random = talkRandom();
      return { 'X-Nextcloud-Talk-Random': random, 'X-Nextcloud-Talk-Signature': talkSignature(secret, random, body) };
    });
    this.ctx.outbox.onAttempt((outcome) => this.onAttempt(outcome));
    this.deliveries = this.ctx.metrics.counter({
      name: 'deliveries_total',
      help: 'Attempts by this instance to deliver webhooks to bots, by outcome (delivered, retry, dead).',
      labelNames: ['outcome'],
    });
    this.ctx.metrics.gauge({
      name: 'bot_errors',
      help: "Failed webhook deliveries to the installed bots: the sum of their error_count (Talk's own counter), read from the database at scrape.",
      collect: async (gauge) => gauge.set(await this.bots.totalErrors()),
    });
  }

  /** The secret of the bot a delivery is for: by its id (`bot:<id>`) when known, else by URL. */
  private async secretFor(url: string, ownerRef: string | null): Promise<string | undefined> {
    const id = /^bot:(\d+)$/.exec(ownerRef ?? '')?.[1];
    if (id === undefined) {
      if (!this.secretsByUrl.has(url)) await this.reload();
      return this.secretsByUrl.get(url);
    }
    const botId = Number(id);
    const known = this.secretsById.get(botId);
    if (known !== undefined) return known;
    const bot = await this.bots.byId(botId);
    if (!bot) return undefined;
    this.remember(bot);
    return bot.secret;
  }

  /** Loads every bot's secret (and registers it for log scrubbing). */
  reload(): Promise<void> {
    this.reloading ??= this.bots
      .all()
      .then((all) => {
        // No clearing: a bot remembered while this read ran must stay; uninstalled bots are forgotten by `forget`.
        for (const bot of all) this.remember(bot);
      })
      .catch((err: unknown) => this.ctx.logger.error({ err }, 'could not load bot secrets'))
      .finally(() => {
        this.reloading = undefined;
      });
    return this.reloading;
  }

  /** Keeps a bot's secret for signing and scrubs it from logs. */
  remember(bot: Pick<BotRow, 'url' | 'secret'> & { id?: number }): void {
    this.ctx.secrets.add(bot.secret);
    this.secretsByUrl.set(bot.url, bot.secret);
    if (bot.id !== undefined) this.secretsById.set(bot.id, bot.secret);
  }

  /** Forgets an uninstalled bot's secret. */
  forget(bot: Pick<BotRow, 'url'> & { id?: number }): void {
    this.secretsByUrl.delete(bot.url);
    if (bot.id !== undefined) this.secretsById.delete(bot.id);
  }

  /**
   * `X-Nextcloud-Talk-Backend`: the configured `backendUrl`, else the base URL of the
   * request (scheme, host, kernel mount and plugin mount), else `http://localhost/`.
   */
  backendUrl(req?: Request): string {
    const configured = this.ctx.config.backendUrl;
    if (configured) return configured.endsWith('/') ? configured : `${configured}/`;
    if (req) {
      const host = req.get('host');
      if (host) return `${req.protocol}://${host}${req.baseUrl ?? ''}${this.ctx.routes.prefix}/`;
    }
    return FALLBACK_BACKEND_URL;
  }

  /**
   * Enqueues one body to each bot in `trx`. Bots whose URL cannot receive webhooks are
   * skipped; a URL the outbound policy refuses counts as a failed delivery.
   */
  async send(trx: Knex.Transaction, bots: readonly BotRow[], body: object, backendUrl: string): Promise<void> {
    if (bots.length === 0) return;
    // One serialisation for every bot, as the original: the signature covers these bytes.
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    const targets = bots.filter((bot) => isWebhookUrl(bot.url));
    if (targets.length === 0) return;
    const delivery = (bot: BotRow): DeliveryInput => ({
      url: bot.url,
      body: bytes,
      headers: { 'Content-Type': 'application/json', 'X-Nextcloud-Talk-Backend': backendUrl, 'OCS-APIRequest': 'true' },
      signer: BOT_SIGNER,
      success: [200, 202],
      ownerRef: `bot:${bot.id}`,
      timeoutMs: this.ctx.config.delivery.timeoutMs,
      maxAttempts: this.ctx.config.delivery.maxAttempts,
    });
    for (const bot of targets) this.remember(bot);
    try {
      // Every bot's delivery in one statement.
      await this.ctx.outbox.enqueueMany(targets.map(delivery), { trx });
    } catch (err) {
      if (!isUrlRefusal(err)) throw err;
      // Some URL is refused by the outbound policy: enqueue one by one and count the refusals.
      for (const bot of targets) {
        try {
          await this.ctx.outbox.enqueue(delivery(bot), { trx });
        } catch (e) {
          if (!isUrlRefusal(e)) throw e;
          this.ctx.logger.warn({ bot: bot.id, reason: (e as Error).message }, 'bot URL refused by the outbound URL policy; increasing error count');
          await this.bots.recordError(bot.id, nowSeconds(), (e as Error).message, trx);
        }
      }
    }
  }

  /** `Create`: a chat message, to the conversation's bots with the webhook feature. Never for bots' own messages. */
  async messageCreated(trx: Knex.Transaction, room: RoomRow, message: MessageRow, actor: ActivityActor, parent: { message: MessageRow } | undefined, backendUrl: string, participantType?: number): Promise<void> {
    if (actor.type === ActorType.Bots) return;
    const bots = await this.bots.activeInRoom(room.id, BotFeature.Webhook, trx);
    if (bots.length === 0) return;
    const object: Record<string, unknown> = noteObject(message);
    if (parent) object.inReplyTo = { actor: personActor(parent.message.actorType, parent.message.actorId, parent.message.actorDisplayName), object: noteObject(parent.message) };
    await this.send(
      trx,
      bots.filter((b) => b.features & BotFeature.Webhook),
      {
        type: 'Create',
        actor: { ...personActor(actor.type, actor.id, actor.displayName), ...(participantType !== undefined ? { talkParticipantType: String(participantType) } : {}) },
        object,
        target: collection(room),
      },
      backendUrl,
    );
  }

  /** `Join`: a bot was enabled in a conversation (sent to that bot, whatever its features, as the original does). */
  async botJoined(trx: Knex.Transaction, room: RoomRow, bot: BotRow, backendUrl: string): Promise<void> {
    await this.send(trx, [bot], { type: 'Join', actor: applicationActor(bot), object: collection(room) }, backendUrl);
  }

  /** `Leave`: a bot was removed from a conversation. */
  async botLeft(trx: Knex.Transaction, room: RoomRow, bot: BotRow, backendUrl: string): Promise<void> {
    await this.send(trx, [bot], { type: 'Leave', actor: applicationActor(bot), object: collection(room) }, backendUrl);
  }

  /** `Like` (added) or `Undo` of a `Like` (removed): a reaction, to bots with the reaction feature. */
  async reaction(trx: Knex.Transaction, room: RoomRow, message: MessageRow, actor: ActivityActor, reaction: string, added: boolean, backendUrl: string): Promise<void> {
    if (actor.type === ActorType.Bots) return;
    const bots = await this.bots.activeInRoom(room.id, BotFeature.Reaction, trx);
    if (bots.length === 0) return;
    const like = { type: 'Like', actor: personActor(actor.type, actor.id, actor.displayName), object: noteObject(message), target: collection(room), content: reaction };
    const body = added ? like : { type: 'Undo', actor: like.actor, object: like, target: like.target };
    await this.send(trx, bots, body, backendUrl);
  }

  private async onAttempt(outcome: AttemptOutcome): Promise<void> {
    if (!outcome.ownerRef?.startsWith('bot:')) return;
    this.deliveries?.labels(outcome.next).inc();
    if (outcome.ok) return;
    const botId = Number(outcome.ownerRef.slice(4));
    const message = outcome.error ?? `UnexpectedStatusCode: ${outcome.status}`;
    this.ctx.logger.warn({ bot: botId, status: outcome.status, attempt: outcome.attempt, next: outcome.next, error: message }, 'bot webhook failed, increasing error count');
    await this.bots.recordError(botId, Math.floor(outcome.at.getTime() / 1000), message);
  }
}

function isUrlRefusal(err: unknown): boolean {
  return isSwitchboardError(err) && err.code === ErrorCodes.URL_NOT_ALLOWED;
}

/** `{type: "Person", id: "<actorType>/<actorId>", name}`. */
function personActor(type: string, id: string, name: string): Record<string, unknown> {
  return { type: 'Person', id: `${type}/${id}`, name };
}

/** `{type: "Application", id: "bots/bot-<hash>", name}`. */
function applicationActor(bot: BotRow): Record<string, unknown> {
  return { type: 'Application', id: `${ActorType.Bots}/${BOT_ACTOR_PREFIX}${bot.urlHash}`, name: bot.name };
}

/** `{type: "Collection", id: token, name}`. */
function collection(room: RoomRow): Record<string, unknown> {
  return { type: 'Collection', id: room.token, name: room.name };
}

/** A chat message as an Activity Streams `Note`; `content` is a JSON string of message and parameters. */
function noteObject(message: MessageRow): Record<string, unknown> {
  return {
    type: 'Note',
    id: String(message.id),
    name: 'message',
    content: JSON.stringify({ message: message.message, parameters: {} }),
    mediaType: 'text/markdown',
  };
}

/** The attendee fields a `Create` may carry. */
export type ActivityAttendee = Pick<AttendeeRow, 'participantType'>;
