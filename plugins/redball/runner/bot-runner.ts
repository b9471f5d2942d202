/**
 * The bot runner: starts and stops bots, each in its own worker thread, and records every
 * change in the run table so that the status and detailedState clients see come from the
 * database.
 *
 * - `start` loads the bot, its type, settings and reddit authorization, finds the module,
 *   starts the thread and answers once the run function has been called (or says why not).
 * - `stop` aborts the bot's signal, waits up to `stopGraceMs` and terminates a bot that
 *   ignores it; it answers once the run is recorded as stopped.
 * - A bot whose run function returns or throws is recorded as stopped; an error is logged
 *   and shown in its detailedState.
 * - Operations on one bot are serialized; `stopAll` (kernel stop) stops every bot at once and
 *   refuses new starts.
 */
import type { EventBus, Logger } from '../../../src/index.js';
import { NotFound } from '../errors.js';
import type { BotConfigStore } from '../stores/bot-config-store.js';
import type { BotStore } from '../stores/bot-store.js';
import type { BotTypeStore } from '../stores/bot-type-store.js';
import type { RedditAuthStore } from '../stores/reddit-auth-store.js';
import { withError, type RunStore } from '../stores/run-store.js';
import type { DetailedState } from './bot-api.js';
import { BotProcess, type BotLogLine, type BotOutcome } from './bot-process.js';
import type { BotModuleResolver } from './module-resolver.js';

/** The largest detailedState kept, as JSON characters. */
export const MAX_STATE_CHARS = 64 * 1024;

/** Timing of the runner. */
export interface RunnerOptions {
  /** How long a bot has to return after its stop signal before it is terminated, ms. */
  stopGraceMs: number;
  /** How long loading a bot module may take, ms. */
  startTimeoutMs: number;
}

/** The stores and services the runner uses. */
export interface RunnerDeps {
  /** Bots. */
  bots: BotStore;
  /** Bot types. */
  types: BotTypeStore;
  /** Settings. */
  config: BotConfigStore;
  /** Reddit authorizations. */
  auths: RedditAuthStore;
  /** Run records. */
  runs: RunStore;
  /** Module lookup. */
  resolver: BotModuleResolver;
  /** The plugin's logger. */
  logger: Logger;
  /** The event bus. */
  events: EventBus;
}

/** The answer to a start: it runs, or why it does not. */
export type StartResult = { ok: true } | { ok: false; error: string };

const LOG_LEVELS: Record<string, number> = { DEBUG: 20, INFO: 30, WARNING: 40, WARN: 40, ERROR: 50 };
const LINE_LEVELS: Record<BotLogLine['level'], number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** Serialized database writes of one run; published states are coalesced (the latest wins). */
class RunRecorder {
  private chain: Promise<void> = Promise.resolve();
  private latest?: DetailedState;
  private queued = false;
  private begun = false;

  constructor(
    private readonly botId: number,
    private readonly runs: RunStore,
    private readonly log: Logger,
  ) {}

  /** The last state the bot published. */
  get lastState(): DetailedState | undefined {
    return this.latest;
  }

  enqueue(what: string, fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: unknown) => this.log.warn({ err }, `could not record ${what} of bot ${this.botId}`));
  }

  /** Records the run as running, then any state published meanwhile. */
  begin(): void {
    this.begun = true;
    this.enqueue('the start', () => this.runs.markRunning(this.botId));
    if (this.latest) this.scheduleState();
  }

  state(state: DetailedState): void {
    this.latest = state;
    if (this.begun) this.scheduleState();
  }

  private scheduleState(): void {
    if (this.queued) return;
    this.queued = true;
    this.enqueue('the state', async () => {
      this.queued = false;
      if (this.latest) await this.runs.saveState(this.botId, this.latest);
    });
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

interface RunningBot {
  id: number;
  name: string;
  process: BotProcess;
  recorder: RunRecorder;
  /** Resolves once the end of the run is recorded. */
  finished: Promise<void>;
}

/** Starts, stops and watches bots. */
export class BotRunner {
  private readonly running = new Map<number, RunningBot>();
  private readonly live = new Set<BotProcess>();
  private readonly locks = new Map<number, Promise<unknown>>();
  private closing = false;

  /**
   * @param deps - stores and services
   * @param options - timing
   */
  constructor(
    private readonly deps: RunnerDeps,
    private readonly options: RunnerOptions,
  ) {}

  /** True while the bot runs in this process. */
  isRunning(botId: number): boolean {
    return this.running.has(botId);
  }

  /** How many bots run in this process. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Runs `fn` when no other operation on the same bot is in progress. */
  exclusive<T>(botId: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(botId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(botId, tail);
    void tail.then(() => {
      if (this.locks.get(botId) === tail) this.locks.delete(botId);
    });
    return next;
  }

  /** Starts a bot (a running bot is fine). Throws {@link NotFound} for an unknown bot. */
  start(botId: number): Promise<StartResult> {
    return this.exclusive(botId, () => this.startNow(botId));
  }

  /** Stops a bot; false when it was not running. */
  stop(botId: number): Promise<boolean> {
    return this.exclusive(botId, () => this.stopNow(botId));
  }

  /** Stops the bot if it runs, then runs `fn` (e.g. deleting the bot) before anything else can start it. */
  stopThen<T>(botId: number, fn: () => Promise<T>): Promise<T> {
    return this.exclusive(botId, async () => {
      await this.stopNow(botId);
      return fn();
    });
  }

  /** Starts every bot marked autoRun (in the background; failures are logged). */
  async startAutoRun(): Promise<void> {
    const reset = await this.deps.runs.resetStale();
    if (reset > 0) this.deps.logger.info({ reset }, 'bots recorded as running by a previous process are marked stopped');
    for (const id of await this.deps.bots.autoRunIds()) {
      void this.start(id).then(
        (result) => {
          if (!result.ok) this.deps.logger.error({ bot: id }, `autoRun bot ${id} did not start: ${result.error}`);
        },
        (err: unknown) => this.deps.logger.error({ err, bot: id }, `autoRun bot ${id} did not start`),
      );
    }
  }

  /** Stops every bot (kernel stop) and refuses new starts. */
  async stopAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.live].map((p) => p.stop(this.options.stopGraceMs)));
    await Promise.all([...this.running.values()].map((r) => r.finished));
    await Promise.all([...this.locks.values()]);
  }

  private async startNow(botId: number): Promise<StartResult> {
    if (this.closing) return { ok: false, error: 'Switchboard is stopping; bots cannot start now.' };
    if (this.running.has(botId)) return { ok: true };
    const { bots, types, config, auths, runs, resolver, logger } = this.deps;
    const bot = await bots.record(botId);
    if (!bot) throw new NotFound(`Bot ${botId} was not found.`);
    const type = await types.get(bot.botType);
    if (!type) return this.refuse(botId, `Bot ${botId} has bot type ${bot.botType}, which does not exist.`);
    const resolved = resolver.resolve(type.moduleName);
    if (!resolved.found) return this.refuse(botId, `Cannot start bot ${botId}: bot type '${type.name}' names ${resolved.reason}.`);
    const settings = await config.forRun(botId);
    const redditAuth = await auths.forBot(bot.redditAuth);
    const log = logger.child({ bot: botId, botName: bot.name });
    const recorder = new RunRecorder(botId, runs, log);
    let process: BotProcess;
    try {
      process = this.spawn(botId, bot, type, resolved.url, settings, redditAuth, recorder, log);
    } catch (err) {
      return this.refuse(botId, `Cannot start bot ${botId}: no thread could be started for it: ${(err as Error).message}`);
    }
    this.live.add(process);
    // A kernel stop that began while this bot was being prepared ends it at once.
    if (this.closing) void process.terminate();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`loading took longer than ${this.options.startTimeoutMs} ms`)), this.options.startTimeoutMs);
    });
    try {
      await Promise.race([process.ready, timeout]);
      if (this.closing) throw new Error('Switchboard is stopping');
    } catch (err) {
      await process.terminate();
      await process.done;
      this.live.delete(process);
      if (this.closing) return { ok: false, error: 'Switchboard is stopping; bots cannot start now.' };
      return this.refuse(botId, `Cannot start bot ${botId}: its module (${resolved.location}) could not be run: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    recorder.begin();
    const entry: RunningBot = {
      id: botId,
      name: bot.name,
      process,
      recorder,
      finished: process.done.then((outcome) => this.finished(entry, outcome, log)),
    };
    this.running.set(botId, entry);
    await recorder.flush();
    log.info(`bot ${botId} (${bot.name}) started: ${resolved.location}`);
    this.deps.events.emit('redball.bot.started', { botId, name: bot.name });
    return { ok: true };
  }

  private spawn(
    botId: number,
    bot: { name: string },
    type: { id: number; name: string; moduleName: string },
    url: string,
    settings: Record<string, Record<string, unknown>>,
    redditAuth: Awaited<ReturnType<RedditAuthStore['forBot']>>,
    recorder: RunRecorder,
    log: Logger,
  ): BotProcess {
    const minLevel = botLogLevel(settings);
    return new BotProcess({
      url,
      bot: { id: botId, name: bot.name, botType: { id: type.id, name: type.name, moduleName: type.moduleName } },
      settings,
      redditAuth,
      onState: (state) => {
        const size = JSON.stringify(state).length;
        if (size > MAX_STATE_CHARS) log.warn({ size }, `bot ${botId} published a detailedState of ${size} characters (limit ${MAX_STATE_CHARS}); ignored`);
        else recorder.state(state);
      },
      onLog: (line) => {
        if (minLevel !== undefined && LINE_LEVELS[line.level] >= minLevel) {
          log[line.level](line.data === undefined ? {} : { data: line.data }, line.message);
        }
      },
    });
  }

  private async refuse(botId: number, error: string): Promise<StartResult> {
    this.deps.logger.error({ bot: botId }, error);
    await this.deps.runs.markStopped(botId, undefined, error).catch((err: unknown) => this.deps.logger.warn({ err }, `could not record the failed start of bot ${botId}`));
    return { ok: false, error };
  }

  private async finished(entry: RunningBot, outcome: BotOutcome, log: Logger): Promise<void> {
    this.live.delete(entry.process);
    let error: string | undefined;
    let state = entry.recorder.lastState;
    switch (outcome.kind) {
      case 'finished':
        log.info(`bot ${entry.id} (${entry.name}) stopped`);
        break;
      case 'terminated':
        log.warn(`bot ${entry.id} (${entry.name}) ignored its stop signal for ${this.options.stopGraceMs} ms and was terminated`);
        break;
      case 'failed':
      case 'load-failed':
        error = outcome.message;
        log.error({ stack: 'stack' in outcome ? outcome.stack : undefined }, `bot ${entry.id} (${entry.name}) failed: ${outcome.message}`);
        state = withError(state ?? { summary: { text: '', html: '', markdown: '' } }, outcome.message, new Date().toISOString());
        break;
    }
    entry.recorder.enqueue('the stop', () => this.deps.runs.markStopped(entry.id, state, error));
    await entry.recorder.flush();
    if (this.running.get(entry.id) === entry) this.running.delete(entry.id);
    this.deps.events.emit('redball.bot.stopped', { botId: entry.id, name: entry.name, ...(error ? { error } : {}) });
  }

  private async stopNow(botId: number): Promise<boolean> {
    const entry = this.running.get(botId);
    if (!entry) return false;
    await entry.process.stop(this.options.stopGraceMs);
    await entry.finished;
    return true;
  }
}

/** The minimum level of a bot's log lines that reach the log, from its Logging settings; undefined: none. */
function botLogLevel(settings: Record<string, Record<string, unknown>>): number | undefined {
  const logging = settings.Logging ?? {};
  if (logging.LOG_TO_CONSOLE === false) return undefined;
  const level = typeof logging.CONSOLE_LOG_LEVEL === 'string' ? LOG_LEVELS[logging.CONSOLE_LOG_LEVEL.toUpperCase()] : undefined;
  return level ?? LOG_LEVELS.INFO;
}
