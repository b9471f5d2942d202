/**
 * The program each bot's worker thread runs (CommonJS source, evaluated by `new Worker(…,
 * { eval: true })`, so it needs no file of its own next to the compiled plugin).
 *
 * Messages to the parent: `running` (module loaded, run function called), `load-error`
 * (the module could not be imported or exports no run function), `state`, `log`,
 * `finished` (the run function returned) and `failed` (it threw or rejected). The parent
 * sends `stop`, which aborts the bot's signal. When the run function settles the thread
 * exits, ending whatever timers the bot left behind.
 */
export const WORKER_BOOTSTRAP = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const controller = new AbortController();
parentPort.on('message', (m) => { if (m && m.type === 'stop') controller.abort(); });
const send = (m) => parentPort.postMessage(m);
const describe = (err) => (err instanceof Error ? err.name + ': ' + err.message : String(err));
const plain = (data) => {
  if (data === undefined) return undefined;
  try { return JSON.parse(JSON.stringify(data)); } catch { return String(data); }
};
const log = {};
for (const level of ['debug', 'info', 'warn', 'error']) {
  log[level] = (message, data) => send({ type: 'log', level, message: String(message), data: plain(data) });
}
const sleep = (ms) => new Promise((resolve) => {
  if (controller.signal.aborted) return resolve(false);
  const onAbort = () => { clearTimeout(timer); resolve(false); };
  const timer = setTimeout(() => { controller.signal.removeEventListener('abort', onAbort); resolve(true); }, Math.max(0, Number(ms) || 0));
  controller.signal.addEventListener('abort', onAbort, { once: true });
});
const publishState = (state) => {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new TypeError('publishState needs a JSON object');
  send({ type: 'state', state: JSON.parse(JSON.stringify(state)) });
};
(async () => {
  let mod;
  try {
    mod = await import(workerData.url);
  } catch (err) {
    send({ type: 'load-error', message: describe(err) });
    process.exit(0);
  }
  const candidate = typeof mod.run === 'function' ? mod.run
    : typeof mod.default === 'function' ? mod.default
    : mod.default && typeof mod.default.run === 'function' ? mod.default.run.bind(mod.default)
    : undefined;
  if (!candidate) {
    send({ type: 'load-error', message: 'the module exports no run function (export a function named run, or a default function)' });
    process.exit(0);
  }
  if (controller.signal.aborted) process.exit(0);
  send({ type: 'running' });
  try {
    await candidate({ signal: controller.signal, bot: workerData.bot, settings: workerData.settings, redditAuth: workerData.redditAuth, publishState, log, sleep });
    send({ type: 'finished' });
  } catch (err) {
    send({ type: 'failed', message: describe(err), stack: err instanceof Error ? String(err.stack) : undefined });
  }
  process.exit(0);
})();
`;
