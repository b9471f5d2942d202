/**
 * Broadcasts, as the host reports them. Video ingest is outside Switchboard: the host (its
 * media server's publish callbacks, or a person with `switchboard owncast stream start`)
 * tells this service when a stream starts, with its details, and when it stops. The service
 * does the rest: the online state and broadcaster details (in the database, so every
 * process sees them), peak viewer counts, the STREAM_STARTED / STREAM_STOPPED chat messages
 * and webhooks, and the events a host listens to — including
 * `owncast.broadcast.disconnect-requested` when an admin asks to drop the publisher.
 *
 * A change made by another process (the CLI, another instance) reaches this process through
 * {@link BroadcastService.refresh} — at once on PostgreSQL (`owncast.shared.changed`), else
 * at the next periodic refresh: the state is re-read and the announcing chat message is sent
 * to this process's chat clients.
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';
import { BroadcastStateStore, type Broadcaster, type BroadcastState, type StreamDetails } from './broadcast-state.js';
import { ChatHub, type ChatConnections } from './chat/hub.js';
import { MessageStore } from './chat/message-store.js';
import { ChatService, messageView } from './chat/service.js';
import type { ChatFrame, StoredChatMessage } from './chat/types.js';
import { ChatEventTypes } from './constants.js';
import type { OwncastConfig } from './plugin-config.js';
import { SettingsStore } from './settings-store.js';
import { OwncastTokens } from './tokens.js';
import { WebhookService } from './webhooks.js';

export type { Broadcaster, BroadcastState, StreamDetails } from './broadcast-state.js';

/** What the host reports when a stream starts. */
export interface BroadcastStart {
  /** The publisher's address. */
  remoteAddr?: string;
  /** The stream's details. */
  streamDetails?: StreamDetails;
  /** When it started (default now). */
  at?: Date;
}

/** Why a broadcast request was refused. */
export type BroadcastErrorCode = 'ALREADY_ONLINE' | 'NOT_ONLINE' | 'INVALID_DETAILS';

/** A refused broadcast request. */
export class BroadcastError extends Error {
  /**
   * @param code - why it was refused
   * @param message - a sentence for people
   */
  constructor(
    readonly code: BroadcastErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BroadcastError';
  }
}

const NUMBER_FIELDS = ['width', 'height', 'frameRate', 'videoBitrate', 'audioBitrate'] as const;
const STRING_FIELDS = ['videoCodec', 'audioCodec', 'encoder'] as const;

/** Checks and copies stream details: known fields only, numbers finite and not negative. */
export function normalizeStreamDetails(details: unknown): StreamDetails {
  if (details === undefined || details === null) return {};
  if (typeof details !== 'object' || Array.isArray(details)) throw new BroadcastError('INVALID_DETAILS', 'streamDetails must be an object');
  const d = details as Record<string, unknown>;
  const out: StreamDetails = {};
  for (const key of NUMBER_FIELDS) {
    const v = d[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BroadcastError('INVALID_DETAILS', `streamDetails.${key} must be a number of at least 0`);
    out[key] = v;
  }
  for (const key of STRING_FIELDS) {
    const v = d[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new BroadcastError('INVALID_DETAILS', `streamDetails.${key} must be a string`);
    out[key] = v;
  }
  return out;
}

/** Reports and tracks broadcasts. */
@injectable()
export class BroadcastService {
  private knownRevision = -1;

  /**
   * @param ctx - the plugin's context
   * @param state - the stored broadcast state
   * @param chat - for the start/stop chat messages
   * @param messages - to relay messages written by other processes
   * @param hub - this process's chat websockets (relays)
   * @param connections - the viewer count
   * @param webhooks - for the stream webhooks
   * @param settings - name, summary and title for the webhooks
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext<OwncastConfig>,
    private readonly state: BroadcastStateStore,
    private readonly chat: ChatService,
    private readonly messages: MessageStore,
    private readonly hub: ChatHub,
    @inject(OwncastTokens.Connections) private readonly connections: ChatConnections,
    private readonly webhooks: WebhookService,
    private readonly settings: SettingsStore,
  ) {}

  /** The broadcast state as this process knows it. */
  get current(): BroadcastState {
    return this.state.current;
  }

  /**
   * Reports a stream start. Fails with `ALREADY_ONLINE` when a broadcast is on (a second
   * publisher should be refused by the host).
   */
  async start(input: BroadcastStart = {}): Promise<BroadcastState> {
    const at = input.at ?? new Date();
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new BroadcastError('INVALID_DETAILS', 'at must be a valid date');
    if (input.remoteAddr !== undefined && typeof input.remoteAddr !== 'string') throw new BroadcastError('INVALID_DETAILS', 'remoteAddr must be a string');
    const broadcaster: Broadcaster = { remoteAddr: input.remoteAddr ?? '', time: at.toISOString(), streamDetails: normalizeStreamDetails(input.streamDetails) };
    const viewers = this.connections.count();
    const { message, state } = await this.ctx.db.transaction(async (trx) => {
      const message = await this.chat.record({ type: ChatEventTypes.STREAM_STARTED, author: this.settings.settings.name, body: 'Stay tuned, the stream is **starting**!' }, trx);
      if (!(await this.state.markOnline(trx, broadcaster, viewers, this.ctx.instanceId, message.id))) {
        throw new BroadcastError('ALREADY_ONLINE', 'a stream is already online');
      }
      await this.webhooks.dispatch('STREAM_STARTED', this.streamEventData(), trx);
      return { message, state: await this.state.load(trx) };
    });
    this.applied(state);
    this.chat.publish(message);
    this.shared();
    this.ctx.logger.info({ remoteAddr: broadcaster.remoteAddr }, 'stream started');
    this.ctx.events.emit('owncast.broadcast.started', { at, broadcaster });
    return state;
  }

  /** Reports a stream stop. Fails with `NOT_ONLINE` when no broadcast is on. */
  async stop(reason: 'host' | 'admin' = 'host'): Promise<BroadcastState> {
    const at = new Date();
    const { message, state } = await this.ctx.db.transaction(async (trx) => {
      const message = await this.chat.record({ type: ChatEventTypes.STREAM_STOPPED, author: this.settings.settings.name, body: 'The stream is ending.' }, trx);
      if (!(await this.state.markOffline(trx, at, this.ctx.instanceId, message.id))) {
        throw new BroadcastError('NOT_ONLINE', 'no inbound stream connected');
      }
      await this.webhooks.dispatch('STREAM_STOPPED', this.streamEventData(), trx);
      return { message, state: await this.state.load(trx) };
    });
    this.applied(state);
    this.chat.publish(message);
    this.shared();
    this.ctx.logger.info({ reason }, 'stream stopped');
    this.ctx.events.emit('owncast.broadcast.stopped', { at, reason });
    return state;
  }

  /**
   * An admin's disconnect: tells the host to drop the publisher
   * (`owncast.broadcast.disconnect-requested`, to every instance) and ends the broadcast.
   * Fails with `NOT_ONLINE` when no broadcast is on.
   */
  async requestDisconnect(): Promise<BroadcastState> {
    if (!this.state.current.online) await this.state.load();
    if (!this.state.current.online) throw new BroadcastError('NOT_ONLINE', 'no inbound stream connected');
    this.ctx.events.emit('owncast.broadcast.disconnect-requested', { at: new Date().toISOString() }, { cluster: true });
    return this.stop('admin');
  }

  /** Tells the other instances to re-read the broadcast state now. */
  private shared(): void {
    this.ctx.events.emit('owncast.shared.changed', { what: 'broadcast', origin: this.ctx.instanceId }, { cluster: true });
  }

  /** Raises the peak counts when the number of chat clients grows. */
  async noteViewers(count: number): Promise<void> {
    await this.state.notePeak(count);
  }

  /**
   * Re-reads the state and, while online, raises the peaks to the viewers connected now.
   * When another process started or stopped the broadcast, sends its announcing message to
   * this process's chat clients and tells local listeners.
   */
  async refresh(): Promise<void> {
    const state = await this.state.load();
    // Viewers connected here when another process (the CLI) started the stream count toward
    // its peaks at once, not only when the next viewer joins.
    if (state.online) await this.noteViewers(this.connections.count());
    if (this.knownRevision === -1 || state.revision === this.knownRevision) {
      this.knownRevision = state.revision;
      return;
    }
    this.knownRevision = state.revision;
    if (state.origin === this.ctx.instanceId) return;
    this.chat.invalidate();
    if (state.eventMessageId) {
      const message: StoredChatMessage | undefined = await this.messages.find(state.eventMessageId);
      if (message) this.hub.sendAll(messageView(message) as unknown as ChatFrame, message.id);
    }
    if (state.online && state.broadcaster) this.ctx.events.emit('owncast.broadcast.started', { at: new Date(state.broadcaster.time), broadcaster: state.broadcaster });
    else if (!state.online) this.ctx.events.emit('owncast.broadcast.stopped', { at: state.lastDisconnectTime ?? new Date(), reason: 'host' });
  }

  private applied(state: BroadcastState): void {
    this.state.remember(state);
    this.knownRevision = state.revision;
  }

  private streamEventData(): Record<string, string> {
    const s = this.settings.settings;
    return { name: s.name, summary: s.summary, streamTitle: s.streamTitle };
  }
}
