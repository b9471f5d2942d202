/**
 * The `talk` plugin: Nextcloud Talk's bot management (OCS, `bots-v1`) with the whole bot
 * loop — administrators install bots (CLI or API), moderators enable them per
 * conversation, every chat message goes to the conversation's bots as a signed Activity
 * Streams webhook through the durable outbox, and bots answer with signed messages and
 * reactions that appear in the chat as the bot. A small conversation model (conversations,
 * participants, chat) is offered as a programmatic API and as Talk's own OCS paths, so the
 * loop can be driven over HTTP alone.
 *
 * Identity comes from the host's identity resolver (in the standalone server: HTTP Basic
 * against its configured users; `admin: true` users are Nextcloud administrators).
 *
 * @module switchboard/plugins/talk
 */
import { Lifecycle } from 'tsyringe';
import { definePlugin, type PluginContext } from '../../src/index.js';
import { TALK_API, type TalkApi } from './api.js';
import { BotAdmin } from './bot-admin.js';
import { BotDelivery } from './bot-delivery.js';
import { BotReplies } from './bot-replies.js';
import { ChatNotifier } from './chat-notifier.js';
import { ListingCache } from './listing-cache.js';
import { talkCli } from './cli.js';
import { TalkConfigSchema, type TalkConfig } from './config.js';
import { ConversationService } from './conversations.js';
import { init } from './migrations/001_init.js';
import { botRandoms } from './migrations/002_bot_randoms.js';
import { RandomStore } from './stores/randoms.js';
import { registerRoutes } from './routes.js';
import { AttendeeStore } from './stores/attendees.js';
import { BotStore } from './stores/bots.js';
import { MessageStore } from './stores/messages.js';
import { ReactionStore } from './stores/reactions.js';
import { RoomStore } from './stores/rooms.js';
import { ThrottleStore } from './stores/throttle.js';
import './events.js';

export { TALK_API, talkApi, type TalkApi } from './api.js';
export { BotAdmin, TalkBotError, sha1, type InstallInput, type BatchResult } from './bot-admin.js';
export { BotDelivery, BOT_SIGNER, FALLBACK_BACKEND_URL, talkSignature, talkRandom, isWebhookUrl, type ActivityActor } from './bot-delivery.js';
export { BotReplies, botAuthor, type BotSignature } from './bot-replies.js';
export { ConversationService, isSingleEmoji, type TalkActor, type MessageAuthor, type RoomAccess, type PostInput, type ReadOptions } from './conversations.js';
export { TalkConfigSchema, type TalkConfig } from './config.js';
export { BotState, BotFeature, ParticipantType, RoomType, ActorType, featureLabelsToFlags, featureFlagsToLabels } from './constants.js';
export type { TalkBot, TalkBotWithDetails } from './formats.js';
export type { TalkMessageEvent, TalkBotConversationEvent } from './events.js';
export { API_V1, API_V4 } from './routes.js';
export type { RoomRow, AttendeeRow, MessageRow, BotRow } from './stores/rows.js';

/** Every service and store of the plugin, one instance per plugin container. */
const SERVICES = [RoomStore, AttendeeStore, MessageStore, ReactionStore, BotStore, ThrottleStore, RandomStore, ChatNotifier, ListingCache, BotDelivery, ConversationService, BotAdmin, BotReplies] as const;

function registerServices(ctx: PluginContext<TalkConfig>): void {
  for (const service of SERVICES) {
    ctx.container.register(service as never, { useClass: service as never }, { lifecycle: Lifecycle.ContainerScoped });
  }
}

/** The talk plugin descriptor. */
export const talkPlugin = definePlugin({
  id: 'talk',
  version: '0.1.0',
  description: 'Nextcloud Talk bot management (OCS bots-v1) with signed webhooks to bots and signed replies',
  config: TalkConfigSchema,
  migrations: [init, botRandoms],
  async init(ctx) {
    registerServices(ctx);
    const delivery = ctx.container.resolve(BotDelivery);
    delivery.register();
    ctx.container.resolve(ChatNotifier).listen();
    ctx.container.resolve(ListingCache).listen();
    const api: TalkApi = { bots: ctx.container.resolve(BotAdmin), conversations: ctx.container.resolve(ConversationService) };
    ctx.provide(TALK_API, api);
    registerRoutes(ctx, { conversations: api.conversations, bots: api.bots, replies: ctx.container.resolve(BotReplies), botStore: ctx.container.resolve(BotStore) });
    // Secrets of installed bots: for signing, and so they never reach a log line.
    await delivery.reload();
  },
  async start(ctx) {
    // Old throttle counters are pruned now and then, off the request path.
    const throttle = ctx.container.resolve(ThrottleStore);
    const windowMs = ctx.config.throttle.windowSeconds * 1000;
    const timer = setInterval(() => void throttle.prune(windowMs, Date.now()).catch((err: unknown) => ctx.logger.warn({ err }, 'throttle prune failed')), Math.max(windowMs, 60_000));
    timer.unref();
    ctx.onStop(() => clearInterval(timer));
    // Bot randoms older than the replay window are forgotten now and then too.
    const randoms = ctx.container.resolve(RandomStore);
    const replayMs = ctx.config.replay.windowSeconds * 1000;
    const randomTimer = setInterval(() => void randoms.prune(replayMs, Date.now()).catch((err: unknown) => ctx.logger.warn({ err }, 'bot random prune failed')), Math.min(replayMs, 600_000));
    randomTimer.unref();
    ctx.onStop(() => clearInterval(randomTimer));
  },
  cli: talkCli,
});

export default talkPlugin;
