/**
 * Bot modules that ship with the plugin and work without any bots directory.
 *
 * A built-in bot's run function is handed to its worker thread as source text
 * (`Function.prototype.toString`), exactly like a module file would be: it must be
 * self-contained — no imports, no references to anything outside its own body.
 */
import type { BotRunContext } from './bot-api.js';

/**
 * The `heartbeat` bot: publishes a counter and a timestamp in its detailedState every
 * `Heartbeat/INTERVAL_MS` milliseconds (default 5000, at least 10), with the text of
 * `Heartbeat/MESSAGE` (default "alive"), until it is stopped.
 */
export async function heartbeat(ctx: BotRunContext): Promise<void> {
  const own = ctx.settings.Heartbeat ?? {};
  const requested = Number(own.INTERVAL_MS ?? 5000);
  const intervalMs = Number.isFinite(requested) ? Math.max(10, Math.floor(requested)) : 5000;
  const message = String(own.MESSAGE ?? 'alive');
  const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const startedAt = new Date().toISOString();
  let count = 0;
  ctx.log.info(`heartbeat every ${intervalMs} ms`);
  while (!ctx.signal.aborted) {
    count += 1;
    const at = new Date().toISOString();
    const text = `${message} #${count} at ${at}`;
    ctx.publishState({
      summary: { text, html: `<p>${escapeHtml(text)}</p>`, markdown: text },
      heartbeat: { count, at, startedAt, intervalMs },
    });
    await ctx.sleep(intervalMs);
  }
  ctx.log.info(`heartbeat stopped after ${count} beats`);
}

/** A bot module that ships with the plugin. */
export interface BuiltinBot {
  /** The bot type's name (unique), and the `moduleName` that selects it. */
  name: string;
  /** The `moduleName` a bot type uses to run it. */
  moduleName: string;
  /** The bot type's description. */
  description: string;
  /** The run function (self-contained: it is run from its source text). */
  run: (ctx: BotRunContext) => Promise<void>;
}

/** Every built-in bot module. A file of the same name in the bots directory takes precedence. */
export const BUILTIN_BOT_TYPES: readonly BuiltinBot[] = [
  { name: 'heartbeat', moduleName: 'heartbeat', description: 'Heartbeat', run: heartbeat },
];

/** The source text of an ES module exporting the built-in's run function. */
export function builtinModuleSource(bot: BuiltinBot): string {
  return `export const run = ${bot.run.toString()};\n`;
}
