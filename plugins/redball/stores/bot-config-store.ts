/**
 * Bot settings ("config"): grouped by category, unique per (bot, category, key). POST
 * preserves existing values, PUT replaces them; neither deletes. A multi-setting write is one
 * transaction: all of it or nothing.
 */
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { InvalidInput } from '../errors.js';
import { checkSetting, type SettingInput, type SettingType } from '../settings.js';
import { SettingsCache } from './settings-cache.js';

/** One setting as the API shows it (redball's fields, without `category`, `read_only` and `system`). */
export interface SettingView {
  /** The setting's id. */
  id: number;
  /** The bot's id. */
  botId: number;
  /** The key. */
  key: string;
  /** Shown on the settings page. */
  description: string;
  /** `str`, `int`, `bool` or `list`. */
  type: SettingType;
  /** The typed value. */
  val: unknown;
  /** Allowed values. */
  options: unknown[];
  /** Subkeys. */
  subkeys: string[];
  /** The parent's key. */
  parent_key: string;
}

/** Settings grouped by category, as redball answers `bots/<id>/config` (a null-prototype object). */
export type SettingsByCategory = Record<string, SettingView[]>;

interface SettingRecord {
  id: number | string;
  bot_id: number | string;
  category: string;
  key: string;
  description: string;
  type: string;
  val: string;
  options: string;
  subkeys: string;
  parent_key: string;
  system: unknown;
}

/** How a write treats settings that exist already. */
export type WriteMode = 'preserve' | 'replace';

/** The row of a setting. */
export function settingRow(botId: number, s: SettingInput): Record<string, unknown> {
  return {
    bot_id: botId,
    category: s.category,
    key: s.key,
    description: s.description,
    type: s.type,
    val: JSON.stringify(s.val ?? null),
    options: JSON.stringify(s.options),
    subkeys: JSON.stringify(s.subkeys),
    parent_key: s.parent_key,
  };
}

const REPLACED_COLUMNS = ['description', 'type', 'val', 'options', 'subkeys', 'parent_key'];
/** Rows per INSERT, well under SQLite's bound-variable limit. */
const CHUNK = 50;

/** What a multi-setting write did. */
export interface WriteResult {
  /** Settings written (inserted, or replaced with `replace`). */
  written: number;
  /** Settings left alone because they existed (with `preserve`). */
  kept: number;
}

/** Reads and writes bot settings. */
@injectable()
export class BotConfigStore {
  private readonly table: string;

  /**
   * @param ctx - the plugin context (database, dialect, table names)
   * @param cache - each bot's settings, kept between changes
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext,
    @inject(SettingsCache) private readonly cache: SettingsCache,
  ) {
    this.table = ctx.table('bot_config');
  }

  /**
   * A bot's settings by category (categories in name order, settings by id), kept between
   * changes; one setting with `settingId` (always read). The answer is shared: never change it.
   */
  grouped(botId: number, settingId?: number): Promise<SettingsByCategory> {
    if (settingId !== undefined) return this.load(botId, settingId);
    return this.cache.get(botId, () => this.load(botId));
  }

  private async load(botId: number, settingId?: number): Promise<SettingsByCategory> {
    const q = this.ctx.db(this.table).where({ bot_id: botId });
    if (settingId !== undefined) q.andWhere({ id: settingId });
    const rows: SettingRecord[] = await q.select('*').orderBy([{ column: 'category' }, { column: 'id' }]);
    // Keyed by stored text: a null-prototype object, so that no category name (not even one
    // stored before such names were refused) can reach Object.prototype.
    const out: SettingsByCategory = Object.create(null);
    for (const r of rows) (out[r.category] ??= []).push(toView(r));
    return out;
  }

  /** A bot's settings as its run function receives them: `{ Category: { KEY: val } }` (null-prototype objects). */
  async forRun(botId: number): Promise<Record<string, Record<string, unknown>>> {
    const rows: SettingRecord[] = await this.ctx.db(this.table).where({ bot_id: botId }).select('category', 'key', 'type', 'val').orderBy('id');
    // Keyed by stored text: null-prototype objects at both levels (see grouped()).
    const out: Record<string, Record<string, unknown>> = Object.create(null);
    for (const r of rows) (out[r.category] ??= Object.create(null))[r.key] = parseJson(r.val, null);
    return out;
  }

  /** Writes settings in one transaction: inserts the missing ones and, with `replace`, overwrites the others. */
  async write(botId: number, settings: readonly SettingInput[], mode: WriteMode): Promise<WriteResult> {
    return this.changing(() => this.ctx.db.transaction(async (trx) => {
      let written = 0;
      for (let i = 0; i < settings.length; i += CHUNK) {
        const rows = settings.slice(i, i + CHUNK).map((s) => settingRow(botId, s));
        const insert = trx(this.table).insert(rows).onConflict(['bot_id', 'category', 'key']);
        if (mode === 'replace') {
          await insert.merge(REPLACED_COLUMNS);
          written += rows.length;
        } else {
          const before = await this.count(trx, botId);
          await insert.ignore();
          written += (await this.count(trx, botId)) - before;
        }
      }
      return { written, kept: settings.length - written };
    }));
  }

  /**
   * Updates fields of one setting (any of category, key, val, description, type, options,
   * subkeys, parent_key); the result is checked as a whole. Returns false when the setting
   * is not one of the bot's.
   */
  async update(botId: number, settingId: number, fields: Record<string, unknown>): Promise<boolean> {
    return this.changing(() => this.ctx.db.transaction(async (trx) => {
      const row: SettingRecord | undefined = await trx(this.table).where({ bot_id: botId, id: settingId }).first();
      if (!row) return false;
      const current = toView(row);
      const type = fields.type ?? current.type;
      // A changed type re-reads the current value in the new type unless a new one is given.
      const merged: Record<string, unknown> = {
        category: row.category,
        key: current.key,
        description: current.description,
        parent_key: current.parent_key,
        options: current.options,
        subkeys: current.subkeys,
        val: current.val,
        ...fields,
        type,
      };
      if (fields.type === 'bool' && fields.options === undefined && current.type !== 'bool') merged.options = [];
      const checked = checkSetting(merged, `Setting ${settingId}`);
      if (!checked.ok) throw new InvalidInput(checked.problems.join(' '));
      const s = checked.value;
      if (this.ctx.dialect.bool(row.system) && (s.category !== row.category || s.key !== row.key)) {
        throw new InvalidInput(`Setting ${settingId} (${row.category}/${row.key}) is a system setting; its category and key cannot change.`);
      }
      try {
        await trx(this.table).where({ id: settingId }).update(settingRow(botId, s));
      } catch (err) {
        if (this.ctx.dialect.isUniqueViolation(err)) throw new InvalidInput(`Bot ${botId} already has a setting '${s.key}' in category '${s.category}'.`);
        throw err;
      }
      return true;
    }));
  }

  /** Deletes every setting of a bot except its system settings; returns how many. */
  async deleteAll(botId: number): Promise<number> {
    return this.changing(async () => this.ctx.db(this.table).where({ bot_id: botId, system: false }).delete());
  }

  /**
   * Deletes one setting. Returns false when it is not one of the bot's; a system setting
   * cannot be deleted ({@link InvalidInput}).
   */
  async deleteOne(botId: number, settingId: number): Promise<boolean> {
    const row: SettingRecord | undefined = await this.ctx.db(this.table).where({ bot_id: botId, id: settingId }).first();
    if (!row) return false;
    if (this.ctx.dialect.bool(row.system)) throw new InvalidInput(`Setting ${settingId} (${row.category}/${row.key}) is a system setting and cannot be deleted.`);
    await this.changing(async () => this.ctx.db(this.table).where({ id: settingId }).delete());
    return true;
  }

  /** Runs a write, then drops the kept settings here and on every instance (even when it failed: it may have half-run). */
  private async changing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.cache.changed();
    }
  }

  private async count(trx: Knex.Transaction, botId: number): Promise<number> {
    const [{ n }] = await trx(this.table).where({ bot_id: botId }).count({ n: '*' });
    return Number(n);
  }
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toView(r: SettingRecord): SettingView {
  return {
    id: Number(r.id),
    botId: Number(r.bot_id),
    key: r.key,
    description: r.description,
    type: r.type as SettingType,
    val: parseJson(r.val, null),
    options: parseJson(r.options, []),
    subkeys: parseJson(r.subkeys, []),
    parent_key: r.parent_key,
  };
}
