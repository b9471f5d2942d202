/**
 * The broadcast state — online or not, since when, who is broadcasting, peak viewer counts —
 * stored in one database row so that every process sees the same state (a CLI command that
 * reports a stream start, another instance). Reads come from the copy in memory, refreshed
 * every `refreshIntervalMs` and at once after a local change.
 */
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';

/** Details of the inbound stream, as the host's media server reports them. */
export interface StreamDetails {
  /** Video width, px. */
  width?: number;
  /** Video height, px. */
  height?: number;
  /** Frames per second. */
  frameRate?: number;
  /** Video bitrate, kbps. */
  videoBitrate?: number;
  /** Video codec, e.g. `H.264`. */
  videoCodec?: string;
  /** Audio bitrate, kbps. */
  audioBitrate?: number;
  /** Audio codec, e.g. `AAC`. */
  audioCodec?: string;
  /** The broadcasting software. */
  encoder?: string;
}

/** Who is broadcasting. */
export interface Broadcaster {
  /** The publisher's address. */
  remoteAddr: string;
  /** When the broadcast started (ISO 8601). */
  time: string;
  /** The stream's details. */
  streamDetails: StreamDetails;
}

/** The broadcast state. */
export interface BroadcastState {
  /** Whether a broadcast is on. */
  online: boolean;
  /** When the last broadcast started, or null. */
  lastConnectTime: Date | null;
  /** When the last broadcast ended, or null (also while one is on). */
  lastDisconnectTime: Date | null;
  /** The peak viewer count of the current (or last) broadcast. */
  sessionPeakViewerCount: number;
  /** The all-time peak viewer count. */
  overallPeakViewerCount: number;
  /** The broadcaster, while online. */
  broadcaster: Broadcaster | null;
  /** Increases with every start and stop. */
  revision: number;
  /** The instance that made the last start or stop. */
  origin: string | null;
  /** The chat message announcing the last start or stop. */
  eventMessageId: string | null;
}

interface BroadcastRow {
  online: unknown;
  last_connect_at: number | string | null;
  last_disconnect_at: number | string | null;
  session_peak: number | string;
  overall_peak: number | string;
  broadcaster: string | null;
  revision: number | string;
  origin: string | null;
  event_message_id: string | null;
}

const OFFLINE: BroadcastState = {
  online: false,
  lastConnectTime: null,
  lastDisconnectTime: null,
  sessionPeakViewerCount: 0,
  overallPeakViewerCount: 0,
  broadcaster: null,
  revision: 0,
  origin: null,
  eventMessageId: null,
};

/** The stored broadcast state and its copy in memory. */
@injectable()
export class BroadcastStateStore {
  private readonly table: string;
  private state: BroadcastState = OFFLINE;

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('broadcast');
  }

  /** The state as last read or written by this process. */
  get current(): BroadcastState {
    return this.state;
  }

  /** Reads the state from the database (in `db` when given) and keeps it; returns it. */
  async load(db: Knex | Knex.Transaction = this.ctx.db): Promise<BroadcastState> {
    const row = (await db(this.table).where('id', 1).first()) as BroadcastRow | undefined;
    const state = row ? this.toState(row) : OFFLINE;
    if (db === this.ctx.db) this.state = state;
    return state;
  }

  /** Replaces the copy in memory (after a committed local change). */
  remember(state: BroadcastState): void {
    this.state = state;
  }

  /**
   * Marks the broadcast online, unless it already is; returns false then. Resets the session
   * peak to `viewers` and raises the overall peak.
   */
  async markOnline(trx: Knex.Transaction, broadcaster: Broadcaster, viewers: number, origin: string, eventMessageId: string): Promise<boolean> {
    const n = await trx(this.table)
      .where({ id: 1, online: false })
      .update({
        online: true,
        last_connect_at: Date.parse(broadcaster.time),
        last_disconnect_at: null,
        session_peak: viewers,
        overall_peak: trx.raw('CASE WHEN overall_peak < ? THEN ? ELSE overall_peak END', [viewers, viewers]),
        broadcaster: JSON.stringify(broadcaster),
        revision: trx.raw('revision + 1'),
        origin,
        event_message_id: eventMessageId,
      });
    return n > 0;
  }

  /** Marks the broadcast offline, unless it already is; returns false then. */
  async markOffline(trx: Knex.Transaction, at: Date, origin: string, eventMessageId: string): Promise<boolean> {
    const n = await trx(this.table)
      .where({ id: 1, online: true })
      .update({
        online: false,
        last_disconnect_at: at.getTime(),
        broadcaster: null,
        revision: trx.raw('revision + 1'),
        origin,
        event_message_id: eventMessageId,
      });
    return n > 0;
  }

  /** Raises the peak counts to `viewers` while online; a no-op when they are already higher. */
  async notePeak(viewers: number): Promise<void> {
    const s = this.state;
    if (!s.online || viewers <= s.sessionPeakViewerCount) return;
    this.state = { ...s, sessionPeakViewerCount: viewers, overallPeakViewerCount: Math.max(s.overallPeakViewerCount, viewers) };
    await this.ctx
      .db(this.table)
      .where({ id: 1, online: true })
      .update({
        session_peak: this.ctx.db.raw('CASE WHEN session_peak < ? THEN ? ELSE session_peak END', [viewers, viewers]),
        overall_peak: this.ctx.db.raw('CASE WHEN overall_peak < ? THEN ? ELSE overall_peak END', [viewers, viewers]),
      });
  }

  private toState(row: BroadcastRow): BroadcastState {
    let broadcaster: Broadcaster | null = null;
    if (row.broadcaster) {
      try {
        broadcaster = JSON.parse(row.broadcaster) as Broadcaster;
      } catch {
        broadcaster = null;
      }
    }
    const date = (v: number | string | null) => (v === null || v === undefined ? null : new Date(Number(v)));
    return {
      online: this.ctx.dialect.bool(row.online),
      lastConnectTime: date(row.last_connect_at),
      lastDisconnectTime: date(row.last_disconnect_at),
      sessionPeakViewerCount: Number(row.session_peak),
      overallPeakViewerCount: Number(row.overall_peak),
      broadcaster,
      revision: Number(row.revision),
      origin: row.origin,
      eventMessageId: row.event_message_id,
    };
  }
}
