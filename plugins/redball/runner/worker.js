// @ts-check
/**
 * The program each bot's worker thread runs: a module file of its own, loaded by URL (see
 * shipped-modules.ts). It is plain JavaScript so that the very same file runs from the
 * sources, from dist/ and next to the bundle, with no compiler or loader in the thread.
 *
 * It imports the bot's module (`workerData.url`), finds its run function and calls it with the
 * bot's context (see bot-api.ts). Messages to the parent: `running` (module loaded, run
 * function called), `load-error` (the module could not be imported or exports no run
 * function), `state`, `log`, `finished` (the run function returned) and `failed` (it threw or
 * rejected). The parent sends `stop`, which aborts the bot's signal. When the run function
 * settles the thread exits, ending whatever timers the bot left behind.
 */
import { parentPort, workerData } from 'node:worker_threads';

if (!parentPort) throw new Error('the bot worker program runs only in a worker thread');
const port = parentPort;

/** @type {{ url: string, bot: unknown, settings: unknown, redditAuth: unknown }} */
const data = workerData;
const controller = new AbortController();
port.on('message', (m) => {
  if (m && m.type === 'stop') controller.abort();
});

/** @param {Record<string, unknown>} m */
const send = (m) => port.postMessage(m);
/** @param {unknown} err */
const describe = (err) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
/** @param {unknown} data */
const plain = (data) => {
  if (data === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(data));
  } catch {
    return String(data);
  }
};
/** @param {'debug' | 'info' | 'warn' | 'error'} level */
const logAt = (level) => (/** @type {unknown} */ message, /** @type {unknown} */ data) => send({ type: 'log', level, message: String(message), data: plain(data) });
const log = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') };

/**
 * Waits `ms` milliseconds, or until the stop signal.
 *
 * @param {unknown} ms
 * @returns {Promise<boolean>} false when stopped early
 */
const sleep = (ms) =>
  new Promise((resolve) => {
    if (controller.signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      controller.signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, Number(ms) || 0));
    controller.signal.addEventListener('abort', onAbort, { once: true });
  });

/** @param {unknown} state */
const publishState = (state) => {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new TypeError('publishState needs a JSON object');
  send({ type: 'state', state: JSON.parse(JSON.stringify(state)) });
};

/** @type {any} */
let mod;
try {
  mod = await import(data.url);
} catch (err) {
  send({ type: 'load-error', message: describe(err) });
  process.exit(0);
}
/** @type {((ctx: unknown) => unknown) | undefined} */
const run =
  typeof mod.run === 'function'
    ? mod.run
    : typeof mod.default === 'function'
      ? mod.default
      : mod.default && typeof mod.default.run === 'function'
        ? mod.default.run.bind(mod.default)
        : undefined;
if (!run) {
  send({ type: 'load-error', message: 'the module exports no run function (export a function named run, or a default function)' });
  process.exit(0);
}
if (controller.signal.aborted) process.exit(0);
send({ type: 'running' });
try {
  await run({ signal: controller.signal, bot: data.bot, settings: data.settings, redditAuth: data.redditAuth, publishState, log, sleep });
  send({ type: 'finished' });
} catch (err) {
  send({ type: 'failed', message: describe(err), stack: err instanceof Error ? String(err.stack) : undefined });
}
process.exit(0);
