/**
 * The contract between Switchboard and a bot module: what a bot's run function receives.
 *
 * A bot module is a JavaScript file in the configured bots directory (`botsDir`) named by
 * its bot type's `moduleName`. It exports a run function — `export async function run(ctx)`,
 * or a default export that is the function (or has a `run` method) — which Switchboard calls
 * in a worker thread of its own when the bot starts. The bot runs until that function
 * returns; it should return soon after `ctx.signal` aborts (a bot that does not is
 * terminated after the plugin's `stopGraceMs`).
 *
 * ```js
 * // bots/hello.mjs
 * export async function run({ signal, settings, publishState, log, sleep }) {
 *   let n = 0;
 *   while (!signal.aborted) {
 *     n += 1;
 *     publishState({ summary: { text: `tick ${n}`, html: `<p>tick ${n}</p>`, markdown: `tick ${n}` } });
 *     await sleep(Number(settings.Hello?.INTERVAL_MS ?? 1000));
 *   }
 *   log.info('bye');
 * }
 * ```
 */

/** A bot's detailed state as the API shows it; `summary` is what redball's UI displays. */
export interface DetailedState {
  /** The one-glance summary, in three renderings. */
  summary?: {
    /** Plain text. */
    text?: string;
    /** HTML. */
    html?: string;
    /** Markdown. */
    markdown?: string;
  };
  /** Anything else the bot wants to show. */
  [key: string]: unknown;
}

/** The initial detailed state of every bot, as redball's. */
export function initialDetailedState(): DetailedState {
  return { summary: { text: '', html: '', markdown: '' } };
}

/** The reddit authorization attached to a bot, as its run function receives it. */
export interface BotRedditAuth {
  /** The authorization's id. */
  id: number;
  /** Its description (its name). */
  description: string;
  /** The reddit app id (client id). */
  reddit_appId: string;
  /** The reddit app secret (client secret). */
  reddit_appSecret: string;
  /** The scopes, as a list. */
  reddit_scopes: string[];
  /** The refresh token, when one was obtained. */
  reddit_refreshToken: string | null;
}

/** A logger a bot writes through; lines reach Switchboard's log labelled with the bot. */
export interface BotLogger {
  /** Debug detail. */
  debug(message: string, data?: unknown): void;
  /** Normal operation. */
  info(message: string, data?: unknown): void;
  /** Something odd. */
  warn(message: string, data?: unknown): void;
  /** Something failed. */
  error(message: string, data?: unknown): void;
}

/** What a bot's run function receives. */
export interface BotRunContext {
  /** Aborted when the bot is asked to stop (API stop, bot deletion, kernel stop). */
  signal: AbortSignal;
  /** Which bot this is. */
  bot: {
    /** The bot's id. */
    id: number;
    /** The bot's name. */
    name: string;
    /** Its bot type. */
    botType: {
      /** The type's id. */
      id: number;
      /** The type's unique name. */
      name: string;
      /** The module that runs it. */
      moduleName: string;
    };
  };
  /** The bot's settings by category and key, values typed (`{ Category: { KEY: val } }`). */
  settings: Record<string, Record<string, unknown>>;
  /** The bot's reddit authorization, or null when it has none. */
  redditAuth: BotRedditAuth | null;
  /** Replaces the bot's `detailedState` (a JSON object; the latest one wins). */
  publishState(state: DetailedState): void;
  /** Writes to Switchboard's log. */
  log: BotLogger;
  /** Waits `ms` milliseconds or until the stop signal; resolves false when stopped early. */
  sleep(ms: number): Promise<boolean>;
}

/** The function a bot module exports. */
export type BotRunFunction = (ctx: BotRunContext) => unknown;
