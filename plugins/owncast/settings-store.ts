/**
 * The settings, stored in the database (one row per setting that has been changed; the
 * plugin config's `defaults` supply the rest), with an in-memory copy so that reads cost
 * nothing. A local change updates the copy at once and is announced cluster-wide
 * (`owncast.shared.changed`), so other instances — on PostgreSQL, also after a change by the
 * CLI — re-read the settings at once ({@link SettingsStore.load}); the plugin also re-reads
 * them every `refreshIntervalMs`.
 *
 * The stream key is resolved here too: a key set through the API wins over the configured
 * `streamKey`, which wins over a key generated because none was configured.
 */
import crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';
import type { OwncastConfig } from './plugin-config.js';
import { EMPTY_S3, type S3Settings, type SettingKey, type Settings } from './settings.js';

interface SettingRow {
  key: string;
  value: string;
}

/** The stored external storage settings: the known keys only, each of its own type (else its empty value). */
function storedS3(value: Record<string, unknown>): S3Settings {
  const s3: S3Settings = { ...EMPTY_S3 };
  for (const key of Object.keys(EMPTY_S3) as Array<keyof S3Settings>) {
    const v = Object.hasOwn(value, key) ? value[key] : undefined;
    if (typeof v === typeof EMPTY_S3[key]) (s3 as unknown as Record<string, unknown>)[key] = v;
  }
  return s3;
}

/** The settings of the instance. */
@injectable()
export class SettingsStore {
  private readonly table: string;
  private current: Settings;
  private fingerprint = '';
  private version = 0;
  /** Counts local writes, so that a read that raced one is not applied over it. */
  private writes = 0;
  private readonly listeners = new Set<(settings: Settings) => void>();

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext<OwncastConfig>) {
    this.table = ctx.table('settings');
    this.current = this.defaults();
  }

  /** The settings as the plugin config defines them, before any change through the API. */
  defaults(): Settings {
    const d = this.ctx.config.defaults;
    return {
      name: d.name,
      summary: d.summary,
      welcomeMessage: d.welcomeMessage,
      chatDisabled: d.chatDisabled,
      streamTitle: d.streamTitle,
      logo: d.logo,
      tags: [...d.tags],
      pageContent: d.pageContent,
      nsfw: d.nsfw,
      serverUrl: d.serverUrl,
      ffmpegPath: d.ffmpegPath,
      webServerPort: d.webServerPort,
      rtmpServerPort: d.rtmpServerPort,
      latencyLevel: d.latencyLevel,
      videoCodec: d.videoCodec,
      streamOutputVariants: d.streamOutputVariants.map((v) => ({ ...v })),
      customStyles: d.customStyles,
      directoryEnabled: d.directoryEnabled,
      socialHandles: [],
      externalActions: [],
      s3: { ...EMPTY_S3 },
      ypRegistrationKey: '',
      streamKey: '',
      generatedStreamKey: '',
    };
  }

  /** The current settings (do not modify). */
  get settings(): Readonly<Settings> {
    return this.current;
  }

  /** Increases whenever the settings change (locally or as observed in the database). */
  get revision(): number {
    return this.version;
  }

  /** Calls `listener` after every change; returns a function that unsubscribes. */
  onChange(listener: (settings: Settings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the settings from the database; true when they differ from the copy in memory. */
  async load(): Promise<boolean> {
    const writes = this.writes;
    const rows = (await this.ctx.db(this.table).select('key', 'value')) as SettingRow[];
    // A local change made while this read ran may be missing from its rows: applying them
    // would undo that change in memory until the next read. The next read sees it.
    if (this.writes !== writes) return false;
    const fingerprint = rows
      .map((r) => `${r.key}=${r.value}`)
      .sort()
      .join('\n');
    if (fingerprint === this.fingerprint) return false;
    this.fingerprint = fingerprint;
    const next = this.defaults();
    for (const row of rows) this.assign(next, row.key, row.value);
    this.replace(next);
    return true;
  }

  /** Stores changed settings and applies them in memory at once. */
  async update(patch: Partial<Settings>): Promise<void> {
    const entries = Object.entries(patch).filter(([key]) => Object.hasOwn(this.current, key)) as Array<[SettingKey, unknown]>;
    if (entries.length === 0) return;
    const now = Date.now();
    const rows = entries.map(([key, value]) => ({ key, value: JSON.stringify(value), updated_at: now }));
    await this.ctx.db(this.table).insert(rows).onConflict('key').merge(['value', 'updated_at']);
    this.writes++;
    // The next load() must see the new rows as known, not as a foreign change.
    this.fingerprint = '';
    this.replace({ ...this.current, ...patch });
    this.ctx.events.emit('owncast.shared.changed', { what: 'settings', origin: this.ctx.instanceId }, { cluster: true });
  }

  /** The current stream key: set through the API, else configured, else generated. */
  streamKey(): string {
    return this.current.streamKey || this.ctx.config.streamKey || this.current.generatedStreamKey;
  }

  /**
   * Makes sure a stream key exists. When none is configured or stored, generates a random
   * one and stores it; returns it then (to be shown once), undefined otherwise.
   */
  async ensureStreamKey(): Promise<string | undefined> {
    if (this.streamKey()) return undefined;
    const key = crypto.randomBytes(18).toString('base64url');
    // Two processes may race on a fresh database: keep whichever key was stored first.
    await this.ctx.db(this.table).insert({ key: 'generatedStreamKey', value: JSON.stringify(key), updated_at: Date.now() }).onConflict('key').ignore();
    await this.load();
    return this.current.generatedStreamKey === key ? key : undefined;
  }

  private assign(target: Settings, key: string, raw: string): void {
    // Own keys only: a row named `__proto__` or `constructor` is not a setting.
    if (!Object.hasOwn(target, key)) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      this.ctx.logger.warn({ setting: key }, 'ignoring a stored setting that is not valid JSON');
      return;
    }
    const fallback = target[key as SettingKey] as unknown;
    const sameShape = Array.isArray(fallback) ? Array.isArray(value) : typeof value === typeof fallback && value !== null;
    if (!sameShape) {
      this.ctx.logger.warn({ setting: key }, 'ignoring a stored setting of the wrong type');
      return;
    }
    (target as unknown as Record<string, unknown>)[key] = key === 's3' ? storedS3(value as Record<string, unknown>) : value;
  }

  private replace(next: Settings): void {
    this.current = next;
    this.version++;
    // Secrets held in settings are scrubbed from every log line.
    this.ctx.secrets.add(next.streamKey);
    this.ctx.secrets.add(next.generatedStreamKey);
    this.ctx.secrets.add(next.s3.secret);
    this.ctx.secrets.add(next.ypRegistrationKey);
    for (const listener of this.listeners) {
      try {
        listener(next);
      } catch (err) {
        this.ctx.logger.error({ err }, 'settings listener failed');
      }
    }
  }
}
