/** Bot types: a name, a description and the module that runs bots of the type. */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { InvalidInput } from '../errors.js';

/** A bot type as the API shows it. */
export interface BotType {
  /** Internal id. */
  id: number;
  /** Unique name, derived from the description when created. */
  name: string;
  /** What it is. */
  description: string;
  /** The module in the bots directory (or the built-in) that runs its bots. */
  moduleName: string;
}

interface BotTypeRecord {
  id: number | string;
  name: string;
  description: string;
  module_name: string;
}

/** redball's rule: the description lower-cased and trimmed, spaces replaced by dashes. */
export function botTypeName(description: string): string {
  return description.toLowerCase().trim().replace(/ /g, '-');
}

/** Reads and writes bot types. */
@injectable()
export class BotTypeStore {
  private readonly table: string;
  private readonly bots: string;

  /** @param ctx - the plugin context (database, table names) */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('bot_types');
    this.bots = ctx.table('bots');
  }

  /** Every bot type, by id. */
  async list(): Promise<BotType[]> {
    const rows: BotTypeRecord[] = await this.ctx.db(this.table).select('id', 'name', 'description', 'module_name').orderBy('id');
    return rows.map(toBotType);
  }

  /** One bot type. */
  async get(id: number): Promise<BotType | undefined> {
    const row: BotTypeRecord | undefined = await this.ctx.db(this.table).where({ id }).first('id', 'name', 'description', 'module_name');
    return row ? toBotType(row) : undefined;
  }

  /** Creates a bot type; its name comes from the description and must be unused. */
  async create(input: { description: string; moduleName: string }): Promise<number> {
    const name = botTypeName(input.description);
    try {
      return await this.ctx.dialect.insertId(this.ctx.db, this.table, { name, description: input.description, module_name: input.moduleName });
    } catch (err) {
      if (this.ctx.dialect.isUniqueViolation(err)) throw new InvalidInput(`A bot type named '${name}' already exists (the name comes from the description).`);
      throw err;
    }
  }

  /** Updates the description and/or module name. Returns false when the type does not exist. */
  async update(id: number, patch: { description?: string; moduleName?: string }): Promise<boolean> {
    const row: Record<string, string> = {};
    if (patch.description !== undefined) row.description = patch.description;
    if (patch.moduleName !== undefined) row.module_name = patch.moduleName;
    const n = await this.ctx.db(this.table).where({ id }).update(row);
    return n > 0;
  }

  /**
   * Deletes a bot type that no bot uses. Returns false when it does not exist; throws
   * {@link InvalidInput} naming the bots that still use it.
   */
  async delete(id: number): Promise<boolean> {
    const users: Array<{ id: number | string }> = await this.ctx.db(this.bots).where({ bot_type_id: id }).select('id').orderBy('id');
    if (users.length > 0) {
      throw new InvalidInput(`Bot type ${id} is used by bot${users.length > 1 ? 's' : ''} ${users.map((u) => Number(u.id)).join(', ')}; delete those bots or change their botType first.`);
    }
    try {
      return (await this.ctx.db(this.table).where({ id }).delete()) > 0;
    } catch (err) {
      if (this.ctx.dialect.isForeignKeyViolation(err)) throw new InvalidInput(`Bot type ${id} is used by a bot; delete it or change its botType first.`);
      throw err;
    }
  }
}

function toBotType(row: BotTypeRecord): BotType {
  return { id: Number(row.id), name: row.name, description: row.description, moduleName: row.module_name };
}
