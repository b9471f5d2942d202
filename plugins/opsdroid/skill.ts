/**
 * The skill API: how a host provides skills to the opsdroid runtime.
 *
 * A skill is a named module with matchers, as in opsdroid: a regex matcher answers chat
 * messages, an "always" matcher sees every message, a webhook matcher is called by
 * `POST /skill/{skill}/{webhook}`, and a crontab matcher fires on a schedule. Each handler
 * gets the bot (memory, sending, the clock), the skill's configuration from the `skills`
 * section, and the event.
 *
 * ```ts
 * const deploy = defineSkill({
 *   name: 'deploy',
 *   matchers: [
 *     matchRegex(String.raw`deploy (?P<service>\w+)`, async (bot, config, message) => {
 *       await message.respond(`Deploying ${message.entities.service.value}…`);
 *     }),
 *     matchWebhook('done', async (bot, config, request) => {
 *       await bot.send(`Deploy finished: ${request.text()}`);
 *     }),
 *     matchCrontab('0 9 * * 1-5', (bot) => bot.send('Good morning, time for stand-up')),
 *   ],
 * });
 * const plugin = createOpsdroidPlugin({ skills: [deploy] });
 * ```
 */
import type { Logger, TSchema } from '../../src/index.js';
import { checkCrontab } from './cron.js';
import type { CronTick, Message, OutgoingMessage, WebhookRequest } from './events.js';
import { compileRegex, REGEX_SCORE_FACTOR, type CompiledRegex, type RegexCondition } from './regex.js';

/** The bot's memory, kept by the enabled databases (none enabled: nothing is remembered). */
export interface SkillMemory {
  /** Reads a value; `fallback` when no database has it. */
  get<T = unknown>(key: string, fallback?: T): Promise<T | undefined>;
  /** Stores a JSON-serializable value in every enabled database. */
  put(key: string, value: unknown): Promise<void>;
  /** Removes a value from every enabled database. */
  delete(key: string): Promise<void>;
}

/** What a skill handler gets as its first argument: the running bot. */
export interface Bot {
  /** The bot's memory. */
  readonly memory: SkillMemory;
  /** Sends a message (default connector: the first enabled one; no target: every open conversation). */
  send(message: string | OutgoingMessage): Promise<void>;
  /** The runtime's clock. */
  now(): Date;
  /** A logger for this skill. */
  readonly logger: Logger;
}

/** A skill's configuration: its entry in the `skills` section, as the command center shows it. */
export interface SkillConfig {
  /** The skill's name. */
  readonly name: string;
  /** False when disabled (a disabled skill's handlers never run). */
  readonly enabled: boolean;
  /** Any key of the user's configuration. */
  readonly [key: string]: unknown;
}

/** Handles a chat message. */
export type MessageHandler = (bot: Bot, config: SkillConfig, message: Message) => unknown;
/** Handles a webhook call; return a `WebhookResponse` to answer the request yourself. */
export type WebhookHandler = (bot: Bot, config: SkillConfig, request: WebhookRequest) => unknown;
/** Handles a crontab tick. */
export type CronHandler = (bot: Bot, config: SkillConfig, tick: CronTick) => unknown;

/** Options of {@link matchRegex} (opsdroid's `match_regex` arguments). */
export interface RegexOptions {
  /** Case-sensitive matching (default true, as in opsdroid). */
  caseSensitive?: boolean;
  /** `match` (at the start, default), `search` (anywhere), `fullmatch` (whole text) or `findall`. */
  matchingCondition?: RegexCondition;
  /** Multiplies the score (default 0.6). */
  scoreFactor?: number;
}

/** A regex matcher. */
export interface RegexMatcher {
  /** The kind. */
  readonly kind: 'regex';
  /** The compiled expression. */
  readonly regex: CompiledRegex;
  /** The handler. */
  readonly handler: MessageHandler;
}

/** A matcher that sees every chat message. */
export interface AlwaysMatcher {
  /** The kind. */
  readonly kind: 'always';
  /** The handler. */
  readonly handler: MessageHandler;
}

/** A webhook matcher: `POST /skill/{skill}/{webhook}`. */
export interface WebhookMatcher {
  /** The kind. */
  readonly kind: 'webhook';
  /** The webhook's name (the last path segment). */
  readonly webhook: string;
  /** The handler. */
  readonly handler: WebhookHandler;
}

/** A crontab matcher. */
export interface CrontabMatcher {
  /** The kind. */
  readonly kind: 'crontab';
  /** The cron expression. */
  readonly crontab: string;
  /** The time zone (default: the config's `timezone`, else UTC). */
  readonly timezone?: string;
  /** The handler. */
  readonly handler: CronHandler;
}

/** Any matcher. */
export type Matcher = RegexMatcher | AlwaysMatcher | WebhookMatcher | CrontabMatcher;

/** A skill module. */
export interface Skill {
  /** The skill's name: its key in the `skills` section and in `/skill/{skill}/…`. */
  readonly name: string;
  /** One line about it. */
  readonly description?: string;
  /** A TypeBox schema of its own config keys (checked at start and on every PATCH). */
  readonly config?: TSchema;
  /** Runs when the skill is loaded (and reloaded by a PATCH). */
  setup?(bot: Bot, config: SkillConfig): void | Promise<void>;
  /** What it reacts to. */
  readonly matchers: readonly Matcher[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Declares a skill, checking its name, regexes, webhook names and crontabs up front. */
export function defineSkill(skill: Skill): Skill {
  if (!NAME.test(skill.name)) throw new Error(`Invalid skill name '${skill.name}': use letters, digits, '.', '_' and '-'`);
  const webhooks = new Set<string>();
  for (const m of skill.matchers) {
    if (m.kind === 'webhook') {
      if (!NAME.test(m.webhook)) throw new Error(`Skill '${skill.name}': invalid webhook name '${m.webhook}'`);
      if (webhooks.has(m.webhook)) throw new Error(`Skill '${skill.name}' declares webhook '${m.webhook}' twice`);
      webhooks.add(m.webhook);
    } else if (m.kind === 'crontab') {
      try {
        checkCrontab(m.crontab, m.timezone);
      } catch (err) {
        throw new Error(`Skill '${skill.name}': ${(err as Error).message}`);
      }
    }
  }
  return skill;
}

/** A regex matcher (opsdroid's `@match_regex`). Throws a SyntaxError for an invalid expression. */
export function matchRegex(expression: string | RegExp, handler: MessageHandler, options: RegexOptions = {}): RegexMatcher {
  const regex = compileRegex(expression, options.caseSensitive ?? true, options.matchingCondition ?? 'match', options.scoreFactor ?? REGEX_SCORE_FACTOR);
  return { kind: 'regex', regex, handler };
}

/** A matcher for every message (opsdroid's `@match_always`). */
export function matchAlways(handler: MessageHandler): AlwaysMatcher {
  return { kind: 'always', handler };
}

/** A webhook matcher (opsdroid's `@match_webhook`). */
export function matchWebhook(webhook: string, handler: WebhookHandler): WebhookMatcher {
  return { kind: 'webhook', webhook, handler };
}

/** A crontab matcher (opsdroid's `@match_crontab`). */
export function matchCrontab(crontab: string, handler: CronHandler, options: { timezone?: string } = {}): CrontabMatcher {
  return { kind: 'crontab', crontab, timezone: options.timezone, handler };
}
