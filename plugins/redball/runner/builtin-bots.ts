/**
 * The bots that ship with the plugin and work without any bots directory. Each is a module
 * file in `plugins/redball/bots/` (`bots/<moduleName>.js`), loaded by URL like a user's bot
 * module (see shipped-modules.ts).
 */

/** A bot module that ships with the plugin. */
export interface BuiltinBot {
  /** The bot type's name (unique), created by the plugin's migrations. */
  name: string;
  /** The `moduleName` a bot type uses to run it: the file `bots/<moduleName>.js`. */
  moduleName: string;
  /** The bot type's description. */
  description: string;
}

/** Every built-in bot module. A file of the same name in the bots directory takes precedence. */
export const BUILTIN_BOT_TYPES: readonly BuiltinBot[] = [{ name: 'heartbeat', moduleName: 'heartbeat', description: 'Heartbeat' }];
