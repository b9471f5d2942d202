/**
 * One run of one bot in its own worker thread: loading, messages, stop and terminate.
 *
 * A worker gives a bot what a thread gave it in redball, and more: a bot that blocks its
 * event loop does not block the server, an exception thrown in a bot's timer does not crash
 * the process, and a bot that ignores its stop signal can be terminated.
 */
import { Worker } from 'node:worker_threads';
import type { BotRedditAuth, BotRunContext, DetailedState } from './bot-api.js';
import { workerProgramUrl } from './shipped-modules.js';

/** How a run ended. */
export type BotOutcome =
  /** The run function returned. */
  | { kind: 'finished' }
  /** The run function threw, or the thread died of an uncaught error. */
  | { kind: 'failed'; message: string; stack?: string }
  /** It ignored its stop signal past the grace period and was terminated. */
  | { kind: 'terminated' }
  /** It never ran: the module could not be loaded. */
  | { kind: 'load-failed'; message: string };

const LOG_LINE_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A bot log line sent by the worker. */
export interface BotLogLine {
  /** `debug`, `info`, `warn` or `error`. */
  level: 'debug' | 'info' | 'warn' | 'error';
  /** The message. */
  message: string;
  /** Extra data (JSON). */
  data?: unknown;
}

/** What a worker needs to run a bot. */
export interface BotProcessOptions {
  /** The module's `file:` URL. */
  url: string;
  /** The bot. */
  bot: BotRunContext['bot'];
  /** Its settings. */
  settings: BotRunContext['settings'];
  /** Its reddit authorization. */
  redditAuth: BotRedditAuth | null;
  /** Called for every published state. */
  onState(state: DetailedState): void;
  /** Called for every log line. */
  onLog(line: BotLogLine): void;
}

/** The server's environment for a bot thread, without `NODE_OPTIONS`. */
function envWithoutNodeOptions(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

/** A running (or starting) bot thread. */
export class BotProcess {
  /** Resolves when the run function has been called; rejects with the load error otherwise. */
  readonly ready: Promise<void>;
  /** Resolves once the thread has exited, with how the run ended. */
  readonly done: Promise<BotOutcome>;
  private readonly worker: Worker;
  private outcome?: BotOutcome;
  private terminated = false;
  private exited = false;

  /** Spawns the worker. */
  constructor(options: BotProcessOptions) {
    this.worker = new Worker(workerProgramUrl(), {
      // None of the server's Node options, from its command line or from NODE_OPTIONS (which
      // a worker would apply again): modules they preload (a test runner's loaders, which
      // take seconds to start in every thread) are not for bot code, which is JavaScript.
      execArgv: [],
      env: envWithoutNodeOptions(),
      workerData: { url: options.url, bot: options.bot, settings: options.settings, redditAuth: options.redditAuth },
    });
    let resolveReady!: () => void;
    let rejectReady!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    // Callers may never await `ready` after a failure; never let it be an unhandled rejection.
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: { type?: string; state?: DetailedState; message?: string; stack?: string; level?: string; data?: unknown }) => {
      // Bot code can post anything on its port: nothing it sends may throw in this thread.
      try {
        this.receive(m, options, resolveReady, rejectReady);
      } catch (err) {
        options.onLog({ level: 'warn', message: `ignored a malformed message from the bot thread: ${(err as Error)?.message ?? String(err)}` });
      }
    });
    this.worker.on('error', (err: Error) => {
      // An uncaught exception or unhandled rejection inside the bot's thread.
      this.outcome ??= { kind: 'failed', message: `${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`, stack: err?.stack };
    });
    this.done = new Promise<BotOutcome>((resolve) => {
      this.worker.once('exit', () => {
        this.exited = true;
        const outcome: BotOutcome = this.terminated ? (this.outcome ?? { kind: 'terminated' }) : (this.outcome ?? { kind: 'failed', message: 'the bot thread exited unexpectedly' });
        rejectReady(new Error(outcome.kind === 'load-failed' || outcome.kind === 'failed' ? outcome.message : 'the bot stopped before it ran'));
        resolve(outcome);
      });
    });
  }

  private receive(
    m: { type?: string; state?: DetailedState; message?: string; stack?: string; level?: string; data?: unknown },
    options: BotProcessOptions,
    resolveReady: () => void,
    rejectReady: (err: Error) => void,
  ): void {
    switch (m?.type) {
      case 'running':
        resolveReady();
        break;
      case 'load-error':
        this.outcome ??= { kind: 'load-failed', message: String(m.message) };
        rejectReady(new Error(String(m.message)));
        break;
      case 'state':
        if (m.state && typeof m.state === 'object' && !Array.isArray(m.state)) options.onState(m.state);
        break;
      case 'log': {
        const level = LOG_LINE_LEVELS.find((l) => l === m.level) ?? 'info';
        options.onLog({ level, message: String(m.message ?? ''), data: m.data });
        break;
      }
      case 'finished':
        this.outcome ??= { kind: 'finished' };
        break;
      case 'failed':
        this.outcome ??= { kind: 'failed', message: String(m.message), stack: typeof m.stack === 'string' ? m.stack : undefined };
        break;
    }
  }

  /** True until the thread has exited. */
  get alive(): boolean {
    return !this.exited;
  }

  /**
   * Asks the bot to stop (aborts its signal) and waits up to `graceMs` for it to finish;
   * a bot still running then is terminated. Resolves with how the run ended.
   */
  async stop(graceMs: number): Promise<BotOutcome> {
    if (this.exited) return this.done;
    this.worker.postMessage({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const first = await Promise.race([this.done, graceOver]);
    clearTimeout(timer);
    if (first === 'timeout') await this.terminate();
    return this.done;
  }

  /** Ends the thread now, whatever it is doing. */
  async terminate(): Promise<void> {
    if (this.exited) return;
    if (!this.outcome) this.terminated = true;
    await this.worker.terminate();
  }
}
