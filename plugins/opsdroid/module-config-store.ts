/**
 * Module configuration changed through the command center (`PATCH /connectors` …), kept in
 * the database so that it survives a restart and is shared by every instance. A row holds
 * the accumulated changes of one module (the shallow merge of every PATCH); the module's
 * effective configuration is its entry in the plugin config with these changes on top.
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';
import type { ModuleType } from './modules.js';

/** The changes stored for one module. */
export interface ModuleOverride {
  /** `connectors`, `skills`, `databases` or `parsers`. */
  type: ModuleType;
  /** The module's name. */
  name: string;
  /** The accumulated changes. */
  config: Record<string, unknown>;
  /** When it last changed. */
  updatedAt: Date | null;
}

interface OverrideRow {
  module_type: string;
  module_name: string;
  config: unknown;
  updated_at: string;
}

/** Reads and writes the persisted module changes. */
@injectable()
export class ModuleConfigStore {
  private readonly table: string;

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('module_config');
  }

  private toOverride(row: OverrideRow): ModuleOverride {
    return { type: row.module_type as ModuleType, name: row.module_name, config: this.ctx.dialect.json<Record<string, unknown>>(row.config), updatedAt: this.ctx.dialect.date(row.updated_at) };
  }

  /** Every stored change, oldest module first. */
  async all(): Promise<ModuleOverride[]> {
    const rows = (await this.ctx.db(this.table).select().orderBy([{ column: 'module_type' }, { column: 'module_name' }])) as OverrideRow[];
    return rows.map((r) => this.toOverride(r));
  }

  /** The stored changes of one module. */
  async get(type: ModuleType, name: string): Promise<ModuleOverride | undefined> {
    const row = (await this.ctx.db(this.table).where({ module_type: type, module_name: name }).first()) as OverrideRow | undefined;
    return row ? this.toOverride(row) : undefined;
  }

  /** Replaces the stored changes of one module. */
  async save(type: ModuleType, name: string, config: Record<string, unknown>): Promise<void> {
    const updated_at = this.ctx.dialect.toDate(new Date());
    await this.ctx
      .db(this.table)
      .insert({ module_type: type, module_name: name, config: this.ctx.dialect.toJson(config), updated_at })
      .onConflict(['module_type', 'module_name'])
      .merge(['config', 'updated_at']);
  }

  /** Forgets the changes of a module, of every module of a type, or of all; returns how many. */
  async remove(type?: ModuleType, name?: string): Promise<number> {
    let query = this.ctx.db(this.table);
    if (type) query = query.where({ module_type: type });
    if (type && name) query = query.where({ module_name: name });
    return query.delete();
  }
}
