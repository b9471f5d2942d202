/**
 * The chat websockets connected to this process (Owncast clients connect to `/entry`).
 *
 * Everything per-process about chat lives here, behind {@link ChatConnections}: the
 * sockets, who they are, the viewer count they make, the keep-alive. Frames for clients
 * reach every instance through the event bus (`owncast.chat.frame`, emitted cluster-wide),
 * and each hub sends them to its own sockets; a later multi-instance setup only has to sum
 * {@link ChatConnections.count} across instances.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import type { OwncastConfig } from '../plugin-config.js';
import type { ChatClientInfo, ChatFrame } from './types.js';

/** The connected clients of this process, as the rest of the plugin sees them. */
export interface ChatConnections {
  /** How many clients are connected. */
  count(): number;
  /** The connected clients. */
  clients(): ChatClientInfo[];
  /** Calls `listener` whenever the count changes; returns a function that unsubscribes. */
  onCountChange(listener: (count: number) => void): () => void;
}

/** The chat clients of this process, with notice of every change to them (for cluster presence). */
export interface LocalChatConnections extends ChatConnections {
  /** Calls `listener` when a client connects, leaves, or its name or message count may have changed. */
  onClientsChange(listener: () => void): () => void;
}

/** One connected client. */
export interface ChatClient {
  /** Its id (`clientID`). */
  readonly id: string;
  /** Its socket. */
  readonly socket: WebSocket;
  /** When it connected. */
  readonly connectedAt: Date;
  /** Its user agent. */
  readonly userAgent: string;
  /** Its address. */
  readonly ipAddress: string;
  /** Its chat name, once known. */
  username: string | null;
  /** Chat messages it sent. */
  messageCount: number;
}

interface ClientState extends ChatClient {
  tokens: number;
  refilledAt: number;
  alive: boolean;
}

/** What handles a client's inbound frame (the chat service). */
export type InboundHandler = (client: ChatClient, frame: Record<string, unknown>) => void | Promise<void>;

/** A socket buffering more than this is too slow to keep up and is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How many recently sent message ids are remembered (to avoid sending one twice). */
const RECENT_IDS = 2000;
/**
 * The longest user agent kept for a client (a header may have ~16 KB); a longer one is cut.
 * Client details are listed by the admin API and, clustered, written to the shared presence
 * row on every connect and disconnect.
 */
export const MAX_USER_AGENT_LENGTH = 512;
/** The longest client address kept (a textual IPv6 address with a zone fits); a longer one is cut. */
export const MAX_ADDRESS_LENGTH = 64;

/** `text` cut to at most `max` UTF-16 units, never between the halves of a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.charCodeAt(max - 1);
  return text.slice(0, cut >= 0xd800 && cut <= 0xdbff ? max - 1 : max);
}

/** The chat websockets of this process. */
@injectable()
export class ChatHub implements LocalChatConnections {
  private readonly connected = new Map<string, ClientState>();
  private readonly countListeners = new Set<(count: number) => void>();
  private readonly clientListeners = new Set<() => void>();
  private readonly recentIds = new Set<string>();
  private inbound?: InboundHandler;
  private heartbeat?: NodeJS.Timeout;

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext<OwncastConfig>) {}

  /** Sets who handles inbound frames. */
  setInboundHandler(handler: InboundHandler): void {
    this.inbound = handler;
  }

  /** How many clients are connected to this process. */
  count(): number {
    return this.connected.size;
  }

  /** The connected clients. */
  clients(): ChatClientInfo[] {
    return [...this.connected.values()].map((c) => ({
      connectedAt: c.connectedAt.toISOString(),
      messageCount: c.messageCount,
      userAgent: c.userAgent,
      ipAddress: c.ipAddress,
      username: c.username,
      clientID: c.id,
    }));
  }

  /** Calls `listener` whenever the count changes. */
  onCountChange(listener: (count: number) => void): () => void {
    this.countListeners.add(listener);
    return () => this.countListeners.delete(listener);
  }

  /** Calls `listener` when a client connects, leaves, or sent a frame (its name or message count may have changed). */
  onClientsChange(listener: () => void): () => void {
    this.clientListeners.add(listener);
    return () => this.clientListeners.delete(listener);
  }

  /** True when this process accepts another connection. */
  hasRoom(): boolean {
    return this.connected.size < this.ctx.config.chat.maxConnections;
  }

  /** Takes a newly upgraded socket. */
  accept(socket: WebSocket, req: IncomingMessage): ChatClient {
    const client: ClientState = {
      id: crypto.randomBytes(16).toString('hex'),
      socket,
      connectedAt: new Date(),
      userAgent: truncate(String(req.headers['user-agent'] ?? ''), MAX_USER_AGENT_LENGTH),
      ipAddress: truncate(this.addressOf(req), MAX_ADDRESS_LENGTH),
      username: null,
      messageCount: 0,
      tokens: this.ctx.config.chat.rateLimitBurst,
      refilledAt: Date.now(),
      alive: true,
    };
    this.connected.set(client.id, client);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', (data, isBinary) => this.receive(client, data as Buffer, isBinary));
    socket.on('close', () => {
      if (this.connected.delete(client.id)) this.countChanged();
    });
    this.countChanged();
    return client;
  }

  /**
   * Sends a frame to every socket of this process. A frame carrying a message id is sent
   * once even if it arrives twice (a local publish and a relay from the database).
   */
  sendAll(frame: ChatFrame, messageId?: string): void {
    if (messageId) {
      if (this.recentIds.has(messageId)) return;
      this.recentIds.add(messageId);
      if (this.recentIds.size > RECENT_IDS) this.recentIds.delete(this.recentIds.values().next().value as string);
    }
    if (this.connected.size === 0) return;
    const text = JSON.stringify(frame);
    for (const client of this.connected.values()) this.sendText(client, text);
  }

  /** Sends a frame to one client. */
  send(client: ChatClient, frame: ChatFrame): void {
    const state = this.connected.get(client.id);
    if (state) this.sendText(state, JSON.stringify(frame));
  }

  /** Starts the keep-alive: a PING frame (and a protocol ping) every interval; dead sockets are dropped. */
  startHeartbeat(): void {
    if (this.heartbeat) return;
    const ping = JSON.stringify({ type: 'PING' });
    this.heartbeat = setInterval(() => {
      for (const client of this.connected.values()) {
        if (!client.alive) {
          client.socket.terminate();
          continue;
        }
        client.alive = false;
        client.socket.ping();
        this.sendText(client, ping);
      }
    }, this.ctx.config.chat.pingIntervalMs);
    this.heartbeat.unref();
  }

  /** Stops the keep-alive. */
  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private sendText(client: ClientState, text: string): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ctx.logger.debug({ client: client.id }, 'dropping a chat client that does not keep up');
      client.socket.terminate();
      return;
    }
    client.socket.send(text);
  }

  private receive(client: ClientState, data: Buffer, isBinary: boolean): void {
    client.alive = true;
    // Every frame counts against the rate limit, before any parsing (as Owncast).
    if (!this.allow(client)) {
      this.ctx.logger.debug({ client: client.id }, 'chat client exceeded the rate limit');
      return;
    }
    if (isBinary) return;
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      this.ctx.logger.debug({ client: client.id }, 'ignoring a chat frame that is not JSON');
      return;
    }
    if (!frame || typeof frame !== 'object' || Array.isArray(frame) || typeof (frame as { type?: unknown }).type !== 'string') {
      this.ctx.logger.debug({ client: client.id }, 'ignoring an untyped chat frame');
      return;
    }
    const typed = frame as Record<string, unknown>;
    if (!this.inbound) return;
    Promise.resolve(this.inbound(client, typed))
      .catch((err: unknown) => this.ctx.logger.error({ err }, 'handling a chat frame failed'))
      .finally(() => this.clientsChanged());
  }

  /** A token bucket per client: `rateLimitPerSecond` sustained, `rateLimitBurst` at once. */
  private allow(client: ClientState): boolean {
    const { rateLimitPerSecond, rateLimitBurst } = this.ctx.config.chat;
    const now = Date.now();
    client.tokens = Math.min(rateLimitBurst, client.tokens + ((now - client.refilledAt) / 1000) * rateLimitPerSecond);
    client.refilledAt = now;
    if (client.tokens < 1) return false;
    client.tokens -= 1;
    return true;
  }

  private addressOf(req: IncomingMessage): string {
    if (this.ctx.config.chat.trustForwardedFor) {
      const forwarded = String(req.headers['x-forwarded-for'] ?? '').split(',')[0].trim();
      if (forwarded) return forwarded;
    }
    return req.socket.remoteAddress ?? '';
  }

  private clientsChanged(): void {
    for (const listener of this.clientListeners) {
      try {
        listener();
      } catch (err) {
        this.ctx.logger.error({ err }, 'chat clients listener failed');
      }
    }
  }

  private countChanged(): void {
    this.clientsChanged();
    const n = this.connected.size;
    for (const listener of this.countListeners) {
      try {
        listener(n);
      } catch (err) {
        this.ctx.logger.error({ err }, 'viewer count listener failed');
      }
    }
  }
}
