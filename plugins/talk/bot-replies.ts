/**
 * The bots' side of the loop: `POST bot/{token}/message` and the reaction endpoints.
 *
 * A request names no bot; it carries `X-Nextcloud-Talk-Bot-Random` (at least 32
 * characters) and `X-Nextcloud-Talk-Bot-Signature` = hex HMAC-SHA256(random + message, or
 * random + reaction) keyed with the bot's secret. The signature is checked, in constant
 * time, against every bot that is active in the conversation and has the needed feature
 * (`ChecksumVerificationService`); the first that matches is the author. No match → 401,
 * and repeated 401s from one client for one conversation → 429 for a while (the original's
 * brute-force protection). Signatures, randoms and secrets are never logged.
 */
import crypto from 'node:crypto';
import type { Request } from 'express';
import { inject, injectable } from 'tsyringe';
import { HttpError, Tokens, type PluginContext } from '../../src/index.js';
import { talkSignature } from './bot-delivery.js';
import type { TalkConfig } from './config.js';
import { ActorType, BOT_ACTOR_PREFIX, BotFeature } from './constants.js';
import { ConversationService, type MessageAuthor } from './conversations.js';
import { TalkErrorCodes, talkError } from './ocs.js';
import { BotStore } from './stores/bots.js';
import type { BotRow, RoomRow } from './stores/rows.js';
import { ThrottleStore } from './stores/throttle.js';
import { RandomStore } from './stores/randoms.js';

/** The signature headers of a bot request. */
export interface BotSignature {
  /** `X-Nextcloud-Talk-Bot-Random`. */
  random?: string;
  /** `X-Nextcloud-Talk-Bot-Signature`. */
  signature?: string;
}

/** Compares two hex signatures in constant time (the given one lower-cased, as the original). */
function signatureMatches(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, 'utf8');
  const b = Buffer.from(givenHex.toLowerCase(), 'utf8');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Verifies bot requests and posts as the bot. */
@injectable()
export class BotReplies {
  /**
   * @param ctx - the plugin context
   * @param bots - the bot store
   * @param throttle - failure counters
   * @param conversations - the conversation model
   * @param randoms - the randoms of accepted requests (replay protection)
   * @internal Resolved from the plugin container, not constructed by hand.
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext<TalkConfig>,
    private readonly bots: BotStore,
    private readonly throttle: ThrottleStore,
    private readonly conversations: ConversationService,
    private readonly randoms: RandomStore,
  ) {}

  private throttleKey(req: Request | undefined, token: string): string {
    return `bot:${req?.ip ?? req?.socket?.remoteAddress ?? 'local'}:${token}`.slice(0, 255);
  }

  /** 429 when this client failed too often for this conversation lately. */
  async checkThrottle(req: Request | undefined, token: string): Promise<void> {
    const { maxFailures, windowSeconds } = this.ctx.config.throttle;
    const failures = await this.throttle.failures(this.throttleKey(req, token), windowSeconds * 1000, Date.now());
    if (failures >= maxFailures) throw new HttpError(429, 'Reached maximum delay', { code: TalkErrorCodes.REFUSED, headers: { 'Retry-After': String(windowSeconds) } });
  }

  /**
   * The bot that signed `payload` for conversation `token`: 400 when the headers are missing
   * or malformed, 401 (counted for throttling) when no active bot with `anyFeature` matches.
   */
  async authenticate(req: Request | undefined, token: string, payload: string, sig: BotSignature, anyFeature: number): Promise<{
    /** The bot whose signature matched. */
    bot: BotRow;
    /** The conversation it may act in. */
    room: RoomRow;
  }> {
    const random = sig.random ?? '';
    const signature = sig.signature ?? '';
    if (random.length < 32) {
      this.ctx.logger.warn({ token }, 'Invalid Random received from bot response');
      throw talkError(400, null);
    }
    if (signature === '') {
      this.ctx.logger.warn({ token }, 'Invalid Signature received from bot response');
      throw talkError(400, null);
    }
    const room = await this.conversations.room(token);
    if (room) {
      for (const bot of await this.bots.activeInRoom(room.id, anyFeature)) {
        if (!signatureMatches(talkSignature(bot.secret, random, payload), signature)) continue;
        // A valid signature over a random already accepted is a replay (the original accepts it).
        if (!(await this.randoms.claim(random, this.ctx.config.replay.windowSeconds * 1000, Date.now()))) {
          this.ctx.logger.warn({ token, bot: bot.id }, 'bot request refused: its random was already used (a replay)');
          throw new HttpError(401, '', { code: TalkErrorCodes.BOT_UNAUTHORIZED, data: null });
        }
        return { bot, room };
      }
    }
    const { windowSeconds } = this.ctx.config.throttle;
    const failures = await this.throttle.fail(this.throttleKey(req, token), windowSeconds * 1000, Date.now());
    this.ctx.logger.warn({ token, ip: req?.ip, failures }, 'bot request with a signature that matches no bot of the conversation');
    throw new HttpError(401, '', { code: TalkErrorCodes.BOT_UNAUTHORIZED, data: null });
  }

  /** `POST bot/{token}/message`: posts `message` as the bot that signed it; 201 on success. */
  async sendMessage(req: Request | undefined, token: string, input: { message: string; replyTo?: number; referenceId?: string; silent?: boolean }, sig: BotSignature): Promise<number> {
    await this.checkThrottle(req, token);
    if (typeof input.message !== 'string' || input.message.trim() === '') throw talkError(400, null);
    const { bot, room } = await this.authenticate(req, token, input.message, sig, BotFeature.Response);
    try {
      const { message } = await this.conversations.post(room, botAuthor(bot), input, { req });
      return message.id;
    } catch (err) {
      // The original answers these with no data.
      if (err instanceof HttpError && (err.status === 400 || err.status === 413)) throw talkError(err.status, null);
      throw err;
    }
  }

  /**
   * `POST`/`DELETE bot/{token}/reaction/{messageId}`: reacts as the bot (response or
   * reaction feature). POST: 201 created, 200 already there; DELETE: 200; 404 no such
   * message (or reaction); 400 not one emoji.
   */
  async react(req: Request | undefined, token: string, messageId: number, reaction: string, add: boolean, sig: BotSignature): Promise<200 | 201> {
    await this.checkThrottle(req, token);
    const { bot, room } = await this.authenticate(req, token, typeof reaction === 'string' ? reaction : '', sig, BotFeature.Response | BotFeature.Reaction);
    try {
      const changed = await this.conversations.react(room, botAuthor(bot), messageId, reaction, add, { req });
      return add && changed ? 201 : 200;
    } catch (err) {
      if (err instanceof HttpError && (err.status === 400 || err.status === 404)) throw talkError(!add && err.status === 400 ? 404 : err.status, null);
      throw err;
    }
  }
}

/** A bot as the author of chat messages and reactions. */
export function botAuthor(bot: BotRow): MessageAuthor {
  return { type: ActorType.Bots, id: `${BOT_ACTOR_PREFIX}${bot.urlHash}`, displayName: bot.name };
}
