/**
 * The `owncast` plugin: Owncast's API as of 0.0.7 — public status and configuration, web
 * chat over a websocket at `/entry`, the admin API (configuration, moderation, metrics,
 * logs), and integrations (access tokens with scopes, durable outgoing webhooks).
 *
 * Video ingest stays with the host: it reports broadcasts through the
 * {@link BroadcastService} (resolve `OwncastTokens.Broadcasts` from the kernel's
 * container, or use `switchboard owncast stream start|stop`), and listens to
 * `owncast.broadcast.disconnect-requested` to drop a publisher when an admin asks.
 *
 * @module switchboard/plugins/owncast
 */
import './events.js';
import { definePlugin, type CliSession, type PluginContext, type PluginDescriptor, type TSchema } from '../../src/index.js';
import { owncastCli } from './cli.js';
import { migrations } from './migrations/001_init.js';
import { Owncast } from './owncast.js';
import { OwncastTokens } from './tokens.js';
import { OwncastConfigSchema, type OwncastConfig } from './plugin-config.js';
import { ChatEventTypes } from './constants.js';
import { registerRoutes } from './routes/index.js';

export { OwncastConfigSchema, type OwncastConfig, type OwncastDefaultVariant } from './plugin-config.js';
export { Owncast, OwncastTokens, announceOnStderr, type KeyAnnouncer } from './owncast.js';
export { BroadcastService, BroadcastError, normalizeStreamDetails, type BroadcastStart, type BroadcastErrorCode } from './broadcasts.js';
export type { Broadcaster, BroadcastState, StreamDetails } from './broadcast-state.js';
export { ChatService, messageView, chatEventData, type PostInput } from './chat/service.js';
export { ChatHub, type ChatConnections, type LocalChatConnections, type ChatClient, type InboundHandler } from './chat/hub.js';
export { ClusterConnections } from './chat/cluster-connections.js';
export { MessageStore, newMessageId, type NewMessage } from './chat/message-store.js';
export type { ChatMessage, StoredChatMessage, ChatFrame, ChatClientInfo } from './chat/types.js';
export { SettingsStore } from './settings-store.js';
export { BroadcastStateStore } from './broadcast-state.js';
export { BackgroundTasks } from './background.js';
export { EmojiDirectory, type Emoji } from './emoji.js';
export type { StatusView } from './views.js';
export { AccessTokenStore, type AccessToken } from './access-tokens.js';
export { WebhookService, type Webhook } from './webhooks.js';
export { MetricsSampler, type TimestampedValue, type HardwareStats } from './metrics.js';
export type { Settings, StreamQuality, SocialHandle, ExternalAction, S3Settings } from './settings.js';
export { ChatEventTypes, Scopes, WEBHOOK_EVENTS, type WebhookEvent, type ChatEventType } from './constants.js';
export { renderChatBody, renderPageContent } from './markdown.js';

const ctxOf = (ctx: PluginContext<unknown>) => ctx as PluginContext<OwncastConfig>;

const KNOWN_CHAT_TYPES: ReadonlySet<string> = new Set(Object.values(ChatEventTypes));

/**
 * The plugin's metrics: `switchboard_owncast_viewers` (chat clients connected, across the
 * cluster on PostgreSQL, sampled at scrape) and `switchboard_owncast_chat_messages_total{type}`
 * (messages stored by this instance; types outside Owncast's own are counted as `OTHER`).
 */
function registerMetrics(ctx: PluginContext<unknown>, owncast: Owncast): void {
  ctx.metrics.gauge({ name: 'viewers', help: 'Viewers: chat clients connected (across every instance on PostgreSQL), sampled at scrape.', collect: (g) => g.set(owncast.connections.count()) });
  const messages = ctx.metrics.counter({ name: 'chat_messages_total', help: 'Chat messages stored by this instance (from clients, integrations and the server), by event type.', labelNames: ['type'] });
  ctx.events.on('owncast.chat.message', (m) => messages.labels(KNOWN_CHAT_TYPES.has(m.type) ? m.type : 'OTHER').inc());
}

/** The owncast plugin descriptor (its configuration is {@link OwncastConfig}). */
export const owncastPlugin: PluginDescriptor<TSchema> = definePlugin<TSchema>({
  id: 'owncast',
  version: '0.1.0',
  description: 'Owncast 0.0.7 API: status, web chat (/entry), admin, integrations, webhooks, metrics',
  config: OwncastConfigSchema,
  migrations,
  async init(ctx) {
    const owncast = await Owncast.create(ctxOf(ctx));
    registerRoutes(ctxOf(ctx), owncast);
    registerMetrics(ctx, owncast);
  },
  async start(ctx) {
    await ctx.container.resolve<Owncast>(OwncastTokens.Owncast).start();
  },
  async stop(ctx) {
    await ctx.container.resolve<Owncast>(OwncastTokens.Owncast).stop();
  },
  cli: (command, session) => owncastCli(command, session as CliSession<OwncastConfig>),
});

export default owncastPlugin;
