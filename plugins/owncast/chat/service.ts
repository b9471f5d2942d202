/**
 * Chat: what Owncast 0.0.7 clients send over the websocket (CHAT, USER_JOINED,
 * NAME_CHANGE, PONG), messages from integrations and from the server itself, history and
 * moderation. Every stored message gets a server-assigned id and time and a body rendered
 * from markdown to sanitized HTML; it is stored together with its webhook deliveries (one
 * transaction, shared by the messages posted meanwhile: group commit), then sent to every
 * chat client, in commit order.
 */
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { GroupCommit, RawJson, Tokens, type PluginContext } from '../../../src/index.js';
import { BroadcastStateStore } from '../broadcast-state.js';
import { ChatEventTypes, type WebhookEvent } from '../constants.js';
import { isEmojiPath, renderChatBody } from '../markdown.js';
import type { OwncastConfig } from '../plugin-config.js';
import { SettingsStore } from '../settings-store.js';
import { WebhookService } from '../webhooks.js';
import type { ChatClient } from './hub.js';
import { MessageStore, newMessageId, type NewMessage } from './message-store.js';
import { RefreshingCache } from '../refreshing-cache.js';
import type { ChatFrame, ChatMessage, StoredChatMessage } from './types.js';

/** A message to post. */
export interface PostInput {
  /** Event type (`CHAT`, `SYSTEM`, `CHAT_ACTION`, `STREAM_STARTED`, …). */
  type: string;
  /** Author name. */
  author: string;
  /** The markdown body. */
  body: string;
  /** The websocket client it came from. */
  clientId?: string;
  /** The webhook event it fires, if any. */
  webhook?: WebhookEvent;
}

/** A post whose body is rendered (before its transaction, which then only writes). */
interface PreparedPost extends NewMessage {
  /** The webhook event it fires, if any. */
  webhook?: WebhookEvent;
}

function prepare(input: PostInput): PreparedPost {
  return { type: input.type, author: input.author, body: renderChatBody(input.body), rawBody: input.body, clientId: input.clientId, webhook: input.webhook };
}

/** The longest NAME_CHANGE `image` passed on (a plain emoji path is far shorter). */
export const MAX_NAME_CHANGE_IMAGE_LENGTH = 256;

/**
 * The `image` of a NAME_CHANGE frame as it is passed on: a short plain path under
 * `/img/emoji/` (the check chat bodies use), else `""` — what Owncast sends when a client
 * gives no image. Owncast 0.0.7 copied any string, of any length, to every viewer (Owncast
 * web clients that send an image show it as an `<img src>`) and to every webhook.
 */
export function nameChangeImage(value: unknown): string {
  return typeof value === 'string' && value.length <= MAX_NAME_CHANGE_IMAGE_LENGTH && isEmojiPath(value) ? value : '';
}

/** Most chat posts written in one transaction (with 10 webhooks, 10 deliveries each). */
const MAX_POSTS_PER_TRANSACTION = 64;

/** The public view of a message (no raw body). */
export function messageView(m: StoredChatMessage): ChatMessage {
  return { id: m.id, author: m.author, body: m.body, type: m.type, visible: m.visible, timestamp: m.timestamp };
}

/** The `eventData` of a chat webhook. */
export function chatEventData(m: StoredChatMessage): Record<string, unknown> {
  return { author: m.author, body: m.body, rawBody: m.rawBody, id: m.id, visible: m.visible, timestamp: m.timestamp };
}

/** The chat of the instance. */
@injectable()
export class ChatService {
  /** `/api/chat`'s answer (see {@link ChatService.historyJson}). */
  private readonly history: RefreshingCache<RawJson>;
  private readonly writer: GroupCommit<PreparedPost, StoredChatMessage>;

  /**
   * @param ctx - the plugin's context
   * @param messages - the message store
   * @param webhooks - the webhooks
   * @param broadcast - the broadcast state (joins are announced only while online)
   * @param settings - the settings (chat can be disabled)
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext<OwncastConfig>,
    private readonly messages: MessageStore,
    private readonly webhooks: WebhookService,
    private readonly broadcast: BroadcastStateStore,
    private readonly settings: SettingsStore,
  ) {
    this.writer = new GroupCommit(ctx.db, {
      write: (posts, trx) => this.recordAll(posts, trx),
      committed: (message) => this.publish(message),
      maxBatch: MAX_POSTS_PER_TRANSACTION,
    });
    this.history = new RefreshingCache(
      () => this.readHistory(),
      () => ctx.config.refreshIntervalMs,
      (err) => ctx.logger.error({ err }, 'owncast could not refresh the chat history'),
    );
  }

  /**
   * True while an admin has disabled chat (`/api/admin/config/chat/disable`): chat messages
   * from clients and integrations, and the server's own chat actions, are not sent.
   */
  get disabled(): boolean {
    return this.settings.settings.chatDisabled;
  }

  /** Renders and stores a message, with its webhook deliveries, in `trx`. Call {@link ChatService.publish} after commit. */
  async record(input: PostInput, trx: Knex.Transaction): Promise<StoredChatMessage> {
    return (await this.recordAll([prepare(input)], trx))[0];
  }

  /**
   * Stores messages whose bodies are rendered, with their webhook deliveries, in `trx`: one
   * insert for the messages, then the deliveries of every message in the messages' order
   * (so each webhook's lane receives them in that order). Returns the stored messages in
   * order.
   */
  private async recordAll(posts: readonly PreparedPost[], trx: Knex.Transaction): Promise<StoredChatMessage[]> {
    const messages = await this.messages.insertAll(posts, trx);
    const events: Array<{ event: WebhookEvent; eventData: object }> = [];
    posts.forEach((post, i) => {
      if (post.webhook) events.push({ event: post.webhook, eventData: chatEventData(messages[i]) });
    });
    if (events.length > 0) await this.webhooks.dispatchMany(events, trx);
    return messages;
  }

  /** Sends a stored message to every chat client (every instance) and tells local listeners. */
  publish(message: StoredChatMessage): void {
    this.history.invalidate();
    this.frame(messageView(message) as unknown as ChatFrame, message.id);
    this.ctx.events.emit('owncast.chat.message', messageView(message));
  }

  /**
   * Stores and sends a message. Concurrent posts share a transaction (group commit): the
   * message and its webhook deliveries have committed when this resolves, and messages are
   * sent to chat clients in commit order. A post whose write fails gets its own error; the
   * others of its batch are stored.
   */
  async post(input: PostInput): Promise<StoredChatMessage> {
    return this.writer.submit(prepare(input));
  }

  /** Sends a frame that is not stored (a join, a name change, an ephemeral action) to every client. */
  frame(frame: ChatFrame, messageId?: string): void {
    this.ctx.events.emit('owncast.chat.frame', { frame, ...(messageId ? { messageId } : {}), origin: this.ctx.instanceId }, { cluster: true });
  }

  /** Sends a chat action that is not stored (Owncast's ephemeral system actions); none while chat is disabled. */
  announceAction(author: string, markdown: string): void {
    if (this.disabled) return;
    this.frame({ id: newMessageId(), author, body: renderChatBody(markdown), type: ChatEventTypes.CHAT_ACTION, visible: true, timestamp: new Date().toISOString() });
  }

  /**
   * `/api/chat` as JSON: visible messages of the recent window, oldest first. Cached for the
   * refresh interval and until the history changes here, with its UTF-8 bytes, so a busy
   * chat page costs one query and one serialization per refresh interval, not per request
   * (see RefreshingCache: requests arriving while it is read again share that one read).
   */
  historyJson(): Promise<RawJson> {
    return this.history.get();
  }

  private async readHistory(): Promise<RawJson> {
    const { historyWindowHours, historyLimit } = this.ctx.config.chat;
    return RawJson.of((await this.messages.recent(historyWindowHours * 3_600_000, historyLimit)).map(messageView));
  }

  /** Every CHAT message of the recent window, hidden ones too (moderation). */
  async moderationHistory(): Promise<ChatMessage[]> {
    const { historyWindowHours, moderationLimit } = this.ctx.config.chat;
    return (await this.messages.ofType(ChatEventTypes.CHAT, historyWindowHours * 3_600_000, moderationLimit)).map(messageView);
  }

  /**
   * Hides or shows messages. Unknown ids are ignored; every message found is sent to chat
   * clients as VISIBILITY-UPDATE and fires the webhook. Returns how many were found.
   */
  async setVisibility(ids: readonly string[], visible: boolean): Promise<number> {
    const found = await this.ctx.db.transaction(async (trx) => {
      const changed = await this.messages.setVisibility(ids, visible, trx);
      if (this.webhooks.wants('VISIBILITY-UPDATE')) {
        await this.webhooks.dispatchMany(changed.map((m) => ({ event: 'VISIBILITY-UPDATE' as const, eventData: chatEventData(m) })), trx);
      }
      return changed;
    });
    this.history.invalidate();
    for (const m of found) this.frame({ ...messageView(m), type: ChatEventTypes.VISIBILITY_UPDATE });
    return found.length;
  }

  /** Forgets the cached history (after a change made elsewhere). */
  invalidate(): void {
    this.history.invalidate();
  }

  /** Handles one frame from a websocket client (already parsed and rate limited). */
  async receive(client: ChatClient, frame: Record<string, unknown>): Promise<void> {
    switch (frame.type) {
      case ChatEventTypes.CHAT:
        return this.receiveChat(client, frame);
      case ChatEventTypes.USER_JOINED:
        return this.receiveJoin(client, frame);
      case ChatEventTypes.NAME_CHANGE:
        return this.receiveNameChange(client, frame);
      case ChatEventTypes.PONG:
        return;
      default:
        this.ctx.logger.debug({ type: frame.type }, 'ignoring a chat frame of an unknown type');
    }
  }

  private name(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    const name = value.trim();
    return name !== '' && name.length <= this.ctx.config.chat.maxNameLength ? name : undefined;
  }

  private async receiveChat(client: ChatClient, frame: Record<string, unknown>): Promise<void> {
    if (this.disabled) {
      // As Owncast: a message sent while chat is disabled is dropped.
      this.ctx.logger.debug({ client: client.id }, 'ignoring a chat message: chat is disabled');
      return;
    }
    const body = typeof frame.body === 'string' ? frame.body.trim() : '';
    if (body === '' || body.length > this.ctx.config.chat.maxMessageLength) {
      this.ctx.logger.debug({ client: client.id }, 'ignoring an empty or too long chat message');
      return;
    }
    const author = this.name(frame.author) ?? client.username ?? 'Anonymous';
    client.username = author;
    client.messageCount++;
    await this.post({ type: ChatEventTypes.CHAT, author, body, clientId: client.id, webhook: 'CHAT' });
  }

  private async receiveJoin(client: ChatClient, frame: Record<string, unknown>): Promise<void> {
    const username = this.name(frame.username);
    if (!username) return;
    client.username = username;
    const event = { username, type: ChatEventTypes.USER_JOINED, id: newMessageId(), timestamp: new Date().toISOString() };
    // As Owncast: joins are announced in chat only while a stream is on; the webhook always fires.
    if (this.broadcast.current.online) this.frame(event);
    await this.webhooks.dispatch('USER_JOINED', event);
  }

  private async receiveNameChange(client: ChatClient, frame: Record<string, unknown>): Promise<void> {
    const newName = this.name(frame.newName);
    if (!newName) return;
    const oldName = this.name(frame.oldName) ?? client.username ?? '';
    client.username = newName;
    const event = {
      oldName,
      newName,
      image: nameChangeImage(frame.image),
      type: ChatEventTypes.NAME_CHANGE,
      id: newMessageId(),
      timestamp: new Date().toISOString(),
    };
    this.frame(event);
    await this.webhooks.dispatch('NAME_CHANGE', event);
  }
}
