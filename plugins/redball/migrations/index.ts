/** The redball plugin's migrations, in the order they run. */
import type { Migration } from '../../../src/index.js';
import { initMigration } from './001_init.js';
import { builtinBotTypesMigration } from './002_builtin_bot_types.js';
import { instancesMigration } from './003_instances.js';

/** Every migration of the plugin. */
export const migrations: readonly Migration[] = [initMigration, builtinBotTypesMigration, instancesMigration];
