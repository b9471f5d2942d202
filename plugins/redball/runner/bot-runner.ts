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
 *
 * With several instances on one PostgreSQL (see {@link BotOwnership}), a bot runs where its
 * lease is held: a start elsewhere answers once the holder runs it, a stop elsewhere asks the
 * holder (a cluster event) and waits for the run to be recorded as stopped. A watcher renews
 * this instance's leases every fifth of `leaseMs`, stops a bot whose lease or run record it
 * lost (the run's writes are fenced with the instance id), and takes over bots recorded as
 * running whose lease expired (their instance died). A stopping instance hands its bots over
 * to the others; the last one records them as stopped.
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { tracer, type EventBus, type Logger } from '../../../src/index.js';
import { NotFound } from '../errors.js';
import type { BotConfigStore } from '../stores/bot-config-store.js';
import type { BotStore } from '../stores/bot-store.js';
import type { BotTypeStore } from '../stores/bot-type-store.js';
import type { RedditAuthStore } from '../stores/reddit-auth-store.js';
import { withError, type RunStore } from '../stores/run-store.js';
import type { DetailedState } from './bot-api.js';
import { BotProcess, type BotLogLine, type BotOutcome } from './bot-process.js';
import type { BotModuleResolver } from './module-resolver.js';
import type { BotOwnership } from './ownership.js';

/** The largest detailedState kept, as JSON characters. */
export const MAX_STATE_CHARS = 64 * 1024;

/** Timing of the runner. */
export interface RunnerOptions {
  /** How long a bot has to return after its stop signal before it is terminated, ms. */
  stopGraceMs: number;
  /** How long loading a bot module may take, ms. */
  startTimeoutMs: number;
}

/** How often the watcher runs, as a fraction of the lease time. */
const WATCH_FRACTION = 5;
/** How often a caller waiting for another instance looks at the run record, ms. */
const REMOTE_POLL_MS = 50;

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
  /** Bot leases and instance membership (several instances). */
  ownership: BotOwnership;
}

/** The answer to a start: it runs, or why it does not. */
export type StartResult =
  | {
      /** It started (or was already running). */
      ok: true;
    }
  | {
      /** It did not start. */
      ok: false;
      /** Why, in redball's words. */
      error: string;
    };

/** Levels of the `Logging/CONSOLE_LOG_LEVEL` setting (text from the database). */
const LOG_LEVELS: ReadonlyMap<string, number> = new Map([
  ['DEBUG', 20],
  ['INFO', 30],
  ['WARNING', 40],
  ['WARN', 40],
  ['ERROR', 50],
]);
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
    private readonly instanceId: string,
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
      if (this.latest) await this.runs.saveState(this.botId, this.latest, { fence: this.instanceId });
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
  /**
   * How the run ends: `stop` records it as stopped; `handover` keeps it recorded as running
   * (another instance takes it over); `lost` writes nothing (another instance owns it now).
   */
  ending: 'stop' | 'handover' | 'lost';
  /** The run's span (`redball bot run`), ended with the run. */
  span: Span;
}

/** The name of the span of each bot run, from its thread's start to the end of the run. */
export const BOT_RUN_SPAN = 'redball bot run';

/** Ends a bot run's span with how the run ended; `error` marks it as failed. */
function endRunSpan(span: Span, outcome: string, error?: string): void {
  if (span.isRecording()) {
    span.setAttribute('switchboard.redball.bot.outcome', outcome);
    if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  }
  span.end();
}

/** Starts, stops and watches bots. */
export class BotRunner {
  private readonly running = new Map<number, RunningBot>();
  private readonly live = new Set<BotProcess>();
  private readonly locks = new Map<number, Promise<unknown>>();
  /** Bots being started here (their lease is held and renewed while they load). */
  private readonly starting = new Set<number>();
  /** When each lease held here runs out, unless renewed (local clock). */
  private readonly leaseUntil = new Map<number, number>();
  private closing = false;
  private watchTimer?: NodeJS.Timeout;
  private watching?: Promise<void>;
  private unsubscribe: Array<() => void> = [];

  /**
   * @param deps - stores and services
   * @param options - timing
   * @internal Resolved from the plugin container, not constructed by hand.
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

  /**
   * Starts a bot (a running bot is fine, here or on another instance). Throws
   * {@link NotFound} for an unknown bot.
   */
  start(botId: number): Promise<StartResult> {
    return this.exclusive(botId, () => this.startNow(botId));
  }

  /** Stops a bot, here or on the instance running it; false when it was not running. */
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

  /**
   * Begins serving (kernel start). A single server, or the first instance of a cluster that
   * is starting, marks as stopped the runs nothing runs any more (with several instances:
   * those whose lease nobody holds) and, with `autoRun`, starts the bots marked autoRun. An
   * instance joining a running cluster leaves both to it. With several instances the watcher
   * then starts: it renews leases and takes over the bots of instances that died.
   */
  async begin(autoRun: boolean): Promise<void> {
    const { ownership, runs, logger, events } = this.deps;
    const joining = await ownership.othersAlive();
    await ownership.heartbeat();
    if (!joining) {
      const reset = await runs.resetStale(ownership);
      if (reset > 0) logger.info({ reset }, 'bots recorded as running by a previous process are marked stopped');
      if (autoRun) await this.startAutoRun();
    }
    if (!ownership.clustered) return;
    this.unsubscribe.push(
      events.on('redball.bot.stop-requested', (e) => {
        if (this.running.has(e.botId) || this.starting.has(e.botId)) void this.exclusive(e.botId, () => this.stopLocal(e.botId)).catch((err: unknown) => logger.error({ err, bot: e.botId }, `bot ${e.botId} could not be stopped`));
      }),
      events.on('redball.bots.released', () => this.watchSoon()),
    );
    this.watchSoon();
  }

  /** Starts every bot marked autoRun (in the background; failures are logged). */
  private async startAutoRun(): Promise<void> {
    for (const id of await this.deps.bots.autoRunIds()) {
      void this.start(id).then(
        (result) => {
          if (!result.ok) this.deps.logger.error({ bot: id }, `autoRun bot ${id} did not start: ${result.error}`);
        },
        (err: unknown) => this.deps.logger.error({ err, bot: id }, `autoRun bot ${id} did not start`),
      );
    }
  }

  /**
   * Stops every bot (kernel stop) and refuses new starts. With other instances alive, the
   * bots stay recorded as running and their leases are released, so the others take them
   * over at once; the last instance records them as stopped.
   */
  async stopAll(): Promise<void> {
    this.closing = true;
    clearTimeout(this.watchTimer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.watching;
    const { ownership, logger, events } = this.deps;
    let handover = false;
    if (ownership.clustered && this.running.size + this.starting.size > 0) {
      handover = await ownership.othersAlive().catch(() => false);
    }
    if (handover) for (const entry of this.running.values()) entry.ending = 'handover';
    await Promise.all([...this.live].map((p) => p.stop(this.options.stopGraceMs)));
    await Promise.all([...this.running.values()].map((r) => r.finished));
    await Promise.all([...this.locks.values()]);
    if (handover) {
      logger.info('bots handed over to the other instances');
      events.emit('redball.bots.released', { instanceId: ownership.instanceId }, { cluster: true });
    }
    await ownership.leave().catch((err: unknown) => logger.warn({ err }, 'could not leave the cluster membership'));
  }

  private watchSoon(delayMs = 0): void {
    if (this.closing) return;
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => {
      this.watching ??= this.watch()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'the bot lease watcher failed; retrying'))
        .finally(() => {
          this.watching = undefined;
          this.watchSoon(Math.max(50, Math.floor(this.deps.ownership.leaseMs / WATCH_FRACTION)));
        });
    }, delayMs);
    this.watchTimer.unref();
  }

  /**
   * One round of the watcher: keep this instance's membership and leases alive, stop the
   * bots this instance no longer owns, take over the bots nobody holds any more.
   */
  private async watch(): Promise<void> {
    const { ownership, runs, logger } = this.deps;
    await ownership.heartbeat();
    const tick = ownership.leaseMs / WATCH_FRACTION;
    // The runs started (and recorded) before this round; a bot starting now is left alone.
    const entries = new Map([...this.running].filter(([id]) => !this.starting.has(id)));
    for (const id of [...entries.keys(), ...this.starting]) {
      if (this.closing) return;
      let held: boolean;
      try {
        held = await ownership.acquire(id);
      } catch (err) {
        // The database is unreachable: keep running only while the lease surely lasts.
        held = (this.leaseUntil.get(id) ?? 0) - tick > Date.now();
        logger.warn({ err, bot: id }, `could not renew the lease of bot ${id}`);
      }
      if (held) this.leaseUntil.set(id, Date.now() + ownership.leaseMs);
      else this.lose(entries.get(id), 'its lease was taken by another instance');
    }
    const rows = await runs.rows([...entries.keys()]);
    for (const run of rows) {
      if (run.status !== 'running' || run.instanceId !== ownership.instanceId) this.lose(entries.get(run.botId), 'its run was stopped or taken over elsewhere');
    }
    const recorded = new Set(rows.map((r) => r.botId));
    for (const [id, entry] of entries) if (!recorded.has(id)) this.lose(entry, 'it was deleted');
    if (this.closing) return;
    for (const id of await runs.runningExcept([...this.running.keys(), ...this.starting])) {
      if (this.closing) return;
      if ((await ownership.holder(id)) !== undefined) continue;
      logger.info({ bot: id }, `taking over bot ${id}: the instance that ran it is gone`);
      void this.exclusive(id, () => this.startNow(id, { takeover: true })).then(
        (result) => {
          if (result.ok) logger.info({ bot: id }, `bot ${id} taken over`);
          else if (result.error) logger.error({ bot: id }, `bot ${id} could not be taken over: ${result.error}`);
        },
        (err: unknown) => logger.error({ err, bot: id }, `bot ${id} could not be taken over`),
      );
    }
  }

  /** Ends a run here without writing it: another instance owns it now (or it is gone). */
  private lose(entry: RunningBot | undefined, why: string): void {
    // Only the very run that was looked at: a bot stopped and started again meanwhile is a new run.
    if (!entry || this.running.get(entry.id) !== entry || entry.ending !== 'stop') return;
    entry.ending = 'lost';
    this.deps.logger.warn({ bot: entry.id }, `bot ${entry.id} (${entry.name}) is stopped here: ${why}`);
    void entry.process.stop(this.options.stopGraceMs);
  }

  private async startNow(botId: number, options: { takeover?: boolean } = {}): Promise<StartResult> {
    if (this.closing) return { ok: false, error: 'Switchboard is stopping; bots cannot start now.' };
    if (this.running.has(botId)) return { ok: true };
    const { ownership } = this.deps;
    const deadline = Date.now() + this.options.startTimeoutMs + 2000;
    for (;;) {
      if (await ownership.acquire(botId)) break;
      // Another instance holds the bot: it runs there, or is being started there.
      if (options.takeover) return { ok: false, error: '' };
      const holder = await ownership.holder(botId);
      const run = await this.deps.runs.row(botId);
      if (!run) throw new NotFound(`Bot ${botId} was not found.`);
      if (holder !== undefined && (run.instanceId === holder && run.status === 'running')) return { ok: true };
      if (Date.now() > deadline) return { ok: true };
      await new Promise((r) => setTimeout(r, REMOTE_POLL_MS));
    }
    this.leaseUntil.set(botId, Date.now() + ownership.leaseMs);
    this.starting.add(botId);
    let result: StartResult | undefined;
    try {
      result = await this.startOwned(botId, options);
      return result;
    } finally {
      this.starting.delete(botId);
      if (!result?.ok) {
        this.leaseUntil.delete(botId);
        await ownership.release(botId).catch((err: unknown) => this.deps.logger.warn({ err, bot: botId }, `could not release the lease of bot ${botId}`));
      }
    }
  }

  private async startOwned(botId: number, options: { takeover?: boolean }): Promise<StartResult> {
    const { bots, types, config, auths, runs, resolver, logger } = this.deps;
    if (options.takeover) {
      // Taken over only while it is still meant to run (not stopped meanwhile).
      const run = await runs.row(botId);
      if (run?.status !== 'running') return { ok: false, error: '' };
    }
    const bot = await bots.record(botId);
    if (!bot) throw new NotFound(`Bot ${botId} was not found.`);
    const type = await types.get(bot.botType);
    if (!type) return this.refuse(botId, `Bot ${botId} has bot type ${bot.botType}, which does not exist.`);
    const resolved = resolver.resolve(type.moduleName);
    if (!resolved.found) return this.refuse(botId, `Cannot start bot ${botId} (bot type '${type.name}'): ${resolved.reason}.`);
    const settings = await config.forRun(botId);
    const redditAuth = await auths.forBot(bot.redditAuth);
    const log = logger.child({ bot: botId, botName: bot.name });
    const recorder = new RunRecorder(botId, runs, log, this.deps.ownership.instanceId);
    const span = tracer().startSpan(BOT_RUN_SPAN);
    if (span.isRecording()) {
      span.setAttributes({ 'switchboard.redball.bot.id': botId, 'switchboard.redball.bot.module': type.moduleName, 'switchboard.redball.bot.takeover': options.takeover === true });
    }
    let process: BotProcess;
    try {
      process = this.spawn(botId, bot, type, resolved.url, settings, redditAuth, recorder, log);
    } catch (err) {
      endRunSpan(span, 'not-started', 'no thread could be started');
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
      endRunSpan(span, 'not-started', this.closing ? undefined : 'its module could not be run');
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
      ending: 'stop',
      span,
    };
    this.running.set(botId, entry);
    await recorder.flush();
    // A load that outlasted the lease may have lost the bot to another instance.
    if (!(await this.deps.ownership.acquire(botId))) this.lose(entry, 'its lease was taken by another instance while it loaded');
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
    if (entry.ending !== 'stop') {
      // Lost: another instance owns the run. Handed over: it stays recorded as running.
      if (entry.ending === 'handover') {
        const last = entry.recorder.lastState;
        if (last) entry.recorder.enqueue('the last state', () => this.deps.runs.saveState(entry.id, last, { fence: this.deps.ownership.instanceId }));
        await entry.recorder.flush();
        await this.deps.ownership.release(entry.id).catch((err: unknown) => log.warn({ err }, `could not release the lease of bot ${entry.id}`));
      } else await entry.recorder.flush();
      log.info(`bot ${entry.id} (${entry.name}) stopped here (${entry.ending === 'lost' ? 'owned elsewhere now' : 'handed over'})`);
      if (this.running.get(entry.id) === entry) this.running.delete(entry.id);
      this.leaseUntil.delete(entry.id);
      endRunSpan(entry.span, entry.ending);
      this.deps.events.emit('redball.bot.stopped', { botId: entry.id, name: entry.name });
      return;
    }
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
    entry.recorder.enqueue('the stop', () => this.deps.runs.markStopped(entry.id, state, error, { fence: this.deps.ownership.instanceId }));
    await entry.recorder.flush();
    await this.deps.ownership.release(entry.id).catch((err: unknown) => log.warn({ err }, `could not release the lease of bot ${entry.id}`));
    if (this.running.get(entry.id) === entry) this.running.delete(entry.id);
    this.leaseUntil.delete(entry.id);
    endRunSpan(entry.span, outcome.kind, error);
    this.deps.events.emit('redball.bot.stopped', { botId: entry.id, name: entry.name, ...(error ? { error } : {}) });
  }

  private async stopLocal(botId: number): Promise<boolean> {
    const entry = this.running.get(botId);
    if (!entry) return false;
    await entry.process.stop(this.options.stopGraceMs);
    await entry.finished;
    return true;
  }

  private async stopNow(botId: number): Promise<boolean> {
    if (await this.stopLocal(botId)) return true;
    const { ownership, runs, events } = this.deps;
    if (!ownership.clustered) return false;
    const run = await runs.row(botId);
    if (run?.status !== 'running') return false;
    if ((await ownership.holder(botId)) !== undefined) {
      // It runs on another instance: ask it, and wait for the run to be recorded as stopped.
      events.emit('redball.bot.stop-requested', { botId }, { cluster: true });
      const deadline = Date.now() + this.options.stopGraceMs + 2000;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, REMOTE_POLL_MS));
        const now = await runs.row(botId);
        if (now?.status !== 'running') return true;
      }
    }
    // Nobody holds it (its instance died), or its instance does not answer: record it as
    // stopped here. An instance still running it sees that on its next watch and stops it.
    await runs.markStopped(botId, undefined, undefined, run.instanceId === null ? {} : { fence: run.instanceId });
    return true;
  }
}

/** The minimum level of a bot's log lines that reach the log, from its Logging settings; undefined: none. */
function botLogLevel(settings: Record<string, Record<string, unknown>>): number | undefined {
  const logging = settings.Logging ?? {};
  if (logging.LOG_TO_CONSOLE === false) return undefined;
  const level = typeof logging.CONSOLE_LOG_LEVEL === 'string' ? LOG_LEVELS.get(logging.CONSOLE_LOG_LEVEL.toUpperCase()) : undefined;
  return level ?? LOG_LEVELS.get('INFO');
}
