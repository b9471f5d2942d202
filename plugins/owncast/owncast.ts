/**
 * The composition root of the plugin: builds every service (tsyringe singletons in the
 * plugin's own container), wires them together, and runs the background work of a server
 * process — the refresh of shared state from the database, the chat keep-alive, the
 * metrics sampler and chat retention.
 */
import type { PluginContext } from '../../src/index.js';
import { AccessTokenStore } from './access-tokens.js';
import { BackgroundTasks } from './background.js';
import { BroadcastStateStore } from './broadcast-state.js';
import { BroadcastService } from './broadcasts.js';
import { ClusterConnections } from './chat/cluster-connections.js';
import { ChatHub, type ChatClient, type ChatConnections } from './chat/hub.js';
import { MessageStore } from './chat/message-store.js';
import { ChatService } from './chat/service.js';
import { ChatEventTypes } from './constants.js';
import { EmojiDirectory } from './emoji.js';
import { renderChatBody } from './markdown.js';
import { MetricsSampler } from './metrics.js';
import type { OwncastConfig } from './plugin-config.js';
import { SettingsStore } from './settings-store.js';
import { OwncastTokens } from './tokens.js';
import { statusView, versionString, webConfigView, type StatusView } from './views.js';
import { WebhookService } from './webhooks.js';

export { OwncastTokens } from './tokens.js';

/** How often chat retention runs, when configured. */
const RETENTION_EVERY_MS = 60 * 60 * 1000;

/** Writes the one-time announcement of a generated stream key (standard error by default). */
export type KeyAnnouncer = (key: string) => void;

/** The default announcer: straight to standard error, never through the logger (whose lines are kept and shipped). */
export const announceOnStderr: KeyAnnouncer = (key) => {
  process.stderr.write(
    `\n[owncast] No stream key was configured, so one was generated and stored in the database.\n` +
      `[owncast] Admin user: admin   password / stream key: ${key}\n` +
      `[owncast] It is shown only this once. Change it with POST /api/admin/config/key, or set plugins.owncast.streamKey.\n\n`,
  );
};

/** Every service of the plugin. */
export class Owncast {
  private refreshTimer?: NodeJS.Timeout;
  private refreshing = false;
  /** Work that must end before the database closes. */
  readonly tasks: BackgroundTasks;
  private lastRetention = 0;
  private webConfigCache?: { revision: number; json: string };
  private readonly welcomes = new Set<NodeJS.Timeout>();
  /** The custom emoji. */
  readonly emoji: EmojiDirectory;
  /** The `version` string of `/api/config`. */
  readonly version: string;

  /**
   * @param ctx - the plugin's context
   * @param settings - the stored settings
   * @param messages - the chat messages
   * @param hub - this process's chat websockets
   * @param connections - where viewer counts and client lists come from (by default `hub`)
   * @param chat - chat behaviour
   * @param tokens - integration access tokens
   * @param webhooks - outgoing webhooks
   * @param state - the stored broadcast state
   * @param broadcasts - broadcasts as the host reports them
   * @param metrics - the metrics sampler
   */
  private constructor(
    readonly ctx: PluginContext<OwncastConfig>,
    readonly settings: SettingsStore,
    readonly messages: MessageStore,
    readonly hub: ChatHub,
    readonly connections: ChatConnections,
    readonly chat: ChatService,
    readonly tokens: AccessTokenStore,
    readonly webhooks: WebhookService,
    readonly state: BroadcastStateStore,
    readonly broadcasts: BroadcastService,
    readonly metrics: MetricsSampler,
  ) {
    this.tasks = new BackgroundTasks((err) => ctx.logger.warn({ err }, 'background work failed'));
    this.emoji = new EmojiDirectory(ctx.config.emoji.directory, ctx.config.emoji.urlPrefix);
    this.version = versionString(ctx.version);
  }

  /** Builds and wires the services, loads shared state, and makes sure a stream key exists. */
  static async create(ctx: PluginContext<OwncastConfig>, announce: KeyAnnouncer = announceOnStderr): Promise<Owncast> {
    const c = ctx.container;
    for (const cls of [SettingsStore, MessageStore, ChatHub, WebhookService, AccessTokenStore, BroadcastStateStore, ChatService, BroadcastService, MetricsSampler]) {
      c.registerSingleton(cls as new (...args: any[]) => unknown);
    }
    if (!c.isRegistered(OwncastTokens.Connections)) {
      // Several instances on one PostgreSQL: counts and client lists are the cluster's.
      const connections = ctx.clustered && ctx.mode === 'server' ? new ClusterConnections(ctx, c.resolve(ChatHub)) : c.resolve(ChatHub);
      c.registerInstance<ChatConnections>(OwncastTokens.Connections, connections);
    }
    const owncast = new Owncast(
      ctx,
      c.resolve(SettingsStore),
      c.resolve(MessageStore),
      c.resolve(ChatHub),
      c.resolve<ChatConnections>(OwncastTokens.Connections),
      c.resolve(ChatService),
      c.resolve(AccessTokenStore),
      c.resolve(WebhookService),
      c.resolve(BroadcastStateStore),
      c.resolve(BroadcastService),
      c.resolve(MetricsSampler),
    );
    c.registerInstance(OwncastTokens.Owncast, owncast);
    ctx.provide(OwncastTokens.Broadcasts, owncast.broadcasts);

    ctx.secrets.add(ctx.config.streamKey);
    await owncast.settings.load();
    const generated = await owncast.settings.ensureStreamKey();
    if (generated) {
      announce(generated);
      ctx.logger.warn('no stream key was configured: generated one, stored it in the database and printed it once to standard error');
    }
    await owncast.tokens.registerSecrets();
    await owncast.webhooks.load();
    await owncast.broadcasts.refresh();

    owncast.hub.setInboundHandler((client, frame) => owncast.tasks.run(() => owncast.chat.receive(client, frame)));
    ctx.events.on('owncast.chat.frame', ({ frame, messageId, origin }) => {
      owncast.hub.sendAll(frame, messageId);
      // A message stored or hidden elsewhere: the chat history cached here is stale.
      if (origin !== ctx.instanceId) owncast.chat.invalidate();
    });
    // Shared state another instance (or the CLI) changed: re-read it now, not at the next refresh.
    ctx.events.on('owncast.shared.changed', ({ what, origin }) => {
      if (origin !== ctx.instanceId) owncast.tasks.run(() => owncast.reread(what));
    });
    ctx.events.on('cluster.resync', () => {
      owncast.chat.invalidate();
      owncast.tasks.run(() => owncast.refresh());
    });
    owncast.connections.onCountChange((n) => {
      owncast.broadcasts.noteViewers(n).catch((err: unknown) => ctx.logger.warn({ err }, 'recording the peak viewer count failed'));
    });
    ctx.outbox.onAttempt((outcome) => owncast.webhooks.recordAttempt(outcome));
    return owncast;
  }

  /**
   * Sends the welcome message (`/api/admin/config/welcomemessage`) to a client that just
   * connected, `chat.welcomeDelayMs` later (Owncast waits 7 seconds "so people notice this
   * message come in"), as a SYSTEM message from the server's name with Owncast's id
   * `initial-message-1`. The message current at that moment is sent; none when it is empty
   * or the client has left.
   */
  welcome(client: ChatClient): void {
    const timer = setTimeout(() => {
      this.welcomes.delete(timer);
      const { welcomeMessage, name } = this.settings.settings;
      if (welcomeMessage === '') return;
      this.hub.send(client, {
        author: name,
        body: renderChatBody(welcomeMessage),
        id: 'initial-message-1',
        type: ChatEventTypes.SYSTEM,
        visible: true,
        timestamp: new Date().toISOString(),
      });
    }, this.ctx.config.chat.welcomeDelayMs);
    timer.unref();
    this.welcomes.add(timer);
    client.socket.once('close', () => {
      clearTimeout(timer);
      this.welcomes.delete(timer);
    });
  }

  /** `/api/status`. */
  status(): StatusView {
    return statusView(this.state.current, this.connections.count(), this.settings.settings, this.ctx.config.versionNumber);
  }

  /** `/api/config` as JSON, rebuilt only when the settings change. */
  webConfigJson(): string {
    const revision = this.settings.revision;
    if (this.webConfigCache?.revision !== revision) {
      this.webConfigCache = { revision, json: JSON.stringify(webConfigView(this.settings.settings, this.version)) };
    }
    return this.webConfigCache.json;
  }

  /**
   * Changes the stream title: stored, announced in chat ("Stream title changed to **X**",
   * not stored, as Owncast) and sent to `STREAM_TITLE_UPDATED` webhooks.
   */
  async setStreamTitle(title: string): Promise<void> {
    await this.settings.update({ streamTitle: title });
    const s = this.settings.settings;
    if (title !== '') this.chat.announceAction(s.name, `Stream title changed to **${title}**`);
    await this.webhooks.dispatch('STREAM_TITLE_UPDATED', { name: s.name, summary: s.summary, streamTitle: title });
  }

  /** Re-reads one kind of shared state that another process changed. */
  async reread(what: 'settings' | 'webhooks' | 'broadcast' | 'tokens'): Promise<void> {
    switch (what) {
      case 'settings':
        await this.settings.load();
        break;
      case 'webhooks':
        await this.webhooks.load();
        break;
      case 'broadcast':
        await this.broadcasts.refresh();
        break;
      case 'tokens':
        await this.tokens.registerSecrets();
        break;
    }
  }

  /** Re-reads what other processes may have changed: settings, webhooks, the broadcast state. */
  async refresh(): Promise<void> {
    await this.settings.load();
    await this.webhooks.load();
    await this.broadcasts.refresh();
    const days = this.ctx.config.chat.retentionDays;
    if (days > 0 && Date.now() - this.lastRetention > RETENTION_EVERY_MS) {
      this.lastRetention = Date.now();
      const removed = await this.messages.prune(Date.now() - days * 86_400_000);
      if (removed > 0) {
        this.chat.invalidate();
        this.ctx.logger.info({ removed }, 'old chat messages deleted');
      }
    }
  }

  /** Starts the background work of a server process. */
  async start(): Promise<void> {
    if (this.connections instanceof ClusterConnections) await this.connections.start();
    this.hub.startHeartbeat();
    this.metrics.start(this.tasks);
    this.refreshTimer = setInterval(() => {
      if (this.refreshing) return;
      this.refreshing = true;
      this.tasks.run(() =>
        this.refresh().finally(() => {
          this.refreshing = false;
        }),
      );
    }, this.ctx.config.refreshIntervalMs);
    this.refreshTimer.unref();
  }

  /** Stops the background work and waits for what is running (chat frames, samples, a refresh). */
  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    this.hub.stopHeartbeat();
    for (const timer of this.welcomes) clearTimeout(timer);
    this.welcomes.clear();
    this.metrics.stop();
    await this.tasks.close();
    if (this.connections instanceof ClusterConnections) await this.connections.stop();
  }
}
