/**
 * Seeds a bot type for every built-in bot module, so that a new installation can create
 * and start a bot without writing a module first. Deleting the type later is respected:
 * this runs once.
 */
import type { Migration } from '../../../src/index.js';
import { BUILTIN_BOT_TYPES } from '../runner/builtin-bots.js';

/** Inserts the built-in bot types that are not there yet. */
export const builtinBotTypesMigration: Migration = {
  name: '002_builtin_bot_types',
  async up(db, { table }) {
    for (const type of BUILTIN_BOT_TYPES) {
      const exists = await db(table('bot_types')).where({ name: type.name }).first('id');
      if (!exists) await db(table('bot_types')).insert({ name: type.name, description: type.description, module_name: type.moduleName });
    }
  },
  async down(db, { table }) {
    await db(table('bot_types')).whereIn('name', BUILTIN_BOT_TYPES.map((t) => t.name)).delete();
  },
};
