/**
 * Bots that really run, from modules in a bots directory, on SQLite and PostgreSQL: settings
 * and the reddit authorization reach the run function, published state reaches the API,
 * failing bots are recorded as stopped with their error, modules that cannot be loaded fail
 * start clearly, a bot that blocks its thread neither blocks the server nor hangs a stop,
 * kernel stop ends every bot, and autoRun bots start with the next kernel.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openDatabase } from '../../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel, type TestKernel } from '../../../src/testing/index.js';
import { BotRunner, redballPlugin } from '../../../plugins/redball/index.js';
import { call, eventually, KEY } from './fixtures/client.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-redball-bots-'));
const botsDir = path.join(root, 'bots');
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));

const modules: Record<string, string> = {
  'ticker.mjs': `
    export async function run({ signal, settings, redditAuth, bot, publishState, log, sleep }) {
      let n = 0;
      log.info('ticker up', { name: bot.name });
      log.debug('ticker debug detail');
      while (!signal.aborted) {
        n += 1;
        publishState({ summary: { text: 'tick ' + n, html: '', markdown: '' }, n, label: settings.Ticker?.LABEL ?? null,
          appId: redditAuth?.reddit_appId ?? null, scopes: redditAuth?.reddit_scopes ?? null, botName: bot.name, module: bot.botType.moduleName });
        await sleep(15);
      }
      log.info('ticker down');
    }`,
  'thrower.mjs': `
    export async function run({ publishState, sleep }) {
      publishState({ summary: { text: 'about to fail', html: '', markdown: '' }, n: 1 });
      await sleep(30);
      throw new Error('boom from the bot');
    }`,
  'timer-crash.mjs': `
    export function run({ publishState }) {
      publishState({ phase: 'armed' });
      setTimeout(() => { throw new Error('uncaught in a timer'); }, 20);
      return new Promise(() => {});
    }`,
  'stubborn.mjs': `
    export async function run({ publishState }) {
      publishState({ summary: { text: 'spinning', html: '', markdown: '' } });
      for (;;) { /* never looks at its stop signal, never yields */ }
    }`,
  'finisher.mjs': `
    export default async function ({ publishState }) {
      publishState({ summary: { text: 'done', html: '', markdown: '' }, finished: true });
    }`,
  'cjs-bot.js': `
    exports.run = async ({ signal, publishState, sleep }) => {
      publishState({ cjs: true });
      while (!signal.aborted) await sleep(10);
    };`,
  'rogue.mjs': `
    import { parentPort } from 'node:worker_threads';
    export async function run({ signal, publishState, sleep }) {
      const cycle = {}; cycle.self = cycle;
      parentPort.postMessage({ type: 'state', state: { big: 10n } });
      parentPort.postMessage({ type: 'state', state: cycle });
      parentPort.postMessage({ type: 'log', level: 'constructor', message: 'odd level' });
      parentPort.postMessage({ type: 'log', level: 'info', message: 'bigint data', data: 10n });
      parentPort.postMessage({ type: 'whatever' });
      parentPort.postMessage(null);
      publishState({ sane: true });
      while (!signal.aborted) await sleep(10);
    }`,
  'noexport.mjs': 'export const x = 1;',
  'broken.mjs': 'export function run( {',
  'slowload.mjs': 'await new Promise((r) => setTimeout(r, 20000));\nexport function run() {}',
  'sub/nested.mjs': `export async function run({ publishState, signal, sleep }) { publishState({ nested: true }); while (!signal.aborted) await sleep(10); }`,
};
fs.mkdirSync(path.join(botsDir, 'sub'), { recursive: true });
for (const [name, source] of Object.entries(modules)) fs.writeFileSync(path.join(botsDir, name), source);
fs.writeFileSync(path.join(root, 'outside.mjs'), 'export function run() {}');
fs.symlinkSync(path.join(root, 'outside.mjs'), path.join(botsDir, 'escape.mjs'));

const pluginConfig = { apiKeys: [KEY], botsDir, stopGraceMs: 300, startTimeoutMs: 1500 };

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const sb: TestKernel = await startTestKernel({ database: db.url, plugins: [{ plugin: redballPlugin, config: pluginConfig }] });
    t.teardown(sb.close);
    const runner = sb.kernel.context('redball').container.resolve(BotRunner);
    const events: string[] = [];
    sb.kernel.events.on('redball.bot.started', (e) => void events.push(`started ${e.name}`));
    sb.kernel.events.on('redball.bot.stopped', (e) => void events.push(`stopped ${e.name}${e.error ? `: ${e.error}` : ''}`));

    const ids: Record<string, number> = {};
    const bot = async (name: string, moduleName: string, options: { autoRun?: boolean; redditAuth?: number; settings?: unknown } = {}) => {
      const type = await call(sb, 'POST', '/bottypes', { form: { description: `type ${name}`, moduleName } });
      t.equal(type.status, 200, `type for ${moduleName}`);
      const form: Record<string, string> = { name, botType: String(type.body.response.botTypes[0].id), autoRun: options.autoRun ? 'True' : 'False' };
      if (options.redditAuth) form.redditAuth = String(options.redditAuth);
      const created = await call(sb, 'POST', '/bots', { form });
      ids[name] = created.body.response.bots[0].id;
      if (options.settings) t.equal((await call(sb, 'POST', `/bots/${ids[name]}/config`, { json: options.settings })).status, 200);
      return ids[name];
    };
    const view = async (id: number) => (await call(sb, 'GET', `/bots/${id}`)).body.response.bots[0];
    const start = (id: number) => call(sb, 'PUT', `/bots/${id}/start`);
    const logText = () => sb.kernel.logs.entries('debug').map((e) => `${e.level} ${e.message}`).join('\n');

    t.test('a module from the bots directory runs with its settings and reddit authorization', async (t) => {
      const auth = await call(sb, 'POST', '/redditauths', { form: { description: 'Ticker Auth', reddit_appId: 'ticker-app', reddit_appSecret: 'ticker-secret-123', reddit_scopes: "['identity','read']" } });
      const id = await bot('ticker', 'ticker', { autoRun: true, redditAuth: auth.body.response.redditAuths[0].id, settings: { Ticker: [{ key: 'LABEL', val: 'from settings' }] } });
      t.same((await start(id)).body.response, { result: true });
      const state = await eventually('two ticks', async () => {
        const v = await view(id);
        return v.detailedState.n >= 2 ? v : undefined;
      });
      t.equal(state.status, 'Running');
      t.match(state.detailedState, { label: 'from settings', appId: 'ticker-app', scopes: ['identity', 'read'], botName: 'ticker', module: 'ticker' });
      t.match(logText(), /info ticker up/, 'bot log lines reach the log');
      t.notMatch(logText(), /ticker debug detail/, 'below the bot\'s CONSOLE_LOG_LEVEL (INFO) they do not');
      t.same((await call(sb, 'PUT', `/bots/${id}/stop`)).body.response, { result: true });
      t.equal((await view(id)).status, 'Stopped');
      await eventually('the last log line', async () => (/ticker down/.test(logText()) ? true : undefined));
      t.match(events, ['started ticker', 'stopped ticker']);
    });

    t.test('a bot that throws is stopped, with the error logged and in its detailedState', async (t) => {
      const id = await bot('thrower', 'thrower');
      t.same((await start(id)).body.response, { result: true });
      const stopped = await eventually('the failure', async () => {
        const v = await view(id);
        return v.status === 'Stopped' && v.detailedState.error ? v : undefined;
      });
      t.match(stopped.detailedState, { n: 1, error: { message: 'Error: boom from the bot' }, summary: { text: 'Stopped with an error: Error: boom from the bot' } });
      t.match(logText(), /error bot \d+ \(thrower\) failed: Error: boom from the bot/);
      // The runner lets the bot go once its lease is released, just after the stop is
      // recorded (what the view shows): on PostgreSQL under load that is a round trip later.
      await eventually('the runner to let the bot go', async () => (runner.isRunning(id) ? undefined : true));
      const again = await call(sb, 'PUT', `/bots/${id}/stop`);
      t.same([again.body.errors, again.body.response], [[`Bot ${id} is not running.`], { result: false }]);
      t.ok(events.includes('stopped thrower: Error: boom from the bot'), 'the stopped event carries the error');

      // Starting again clears the error while it runs.
      t.same((await start(id)).body.response, { result: true });
      const rerun = await eventually('a fresh failure', async () => {
        const v = await view(id);
        return v.status === 'Stopped' ? v : undefined;
      });
      t.equal(rerun.detailedState.error.message, 'Error: boom from the bot');
    });

    t.test('an uncaught error in a bot\'s timer ends that bot, not the server', async (t) => {
      const id = await bot('timer-crash', 'timer-crash');
      t.same((await start(id)).body.response, { result: true });
      const stopped = await eventually('the crash', async () => {
        const v = await view(id);
        return v.status === 'Stopped' && v.detailedState.error ? v : undefined;
      });
      t.match(stopped.detailedState.error.message, /uncaught in a timer/);
      t.equal((await call(sb, 'GET', '/bots')).status, 200, 'the server still answers');
    });

    t.test('a run function that returns ends the run; default exports and CommonJS work', async (t) => {
      const fin = await bot('finisher', 'finisher');
      t.same((await start(fin)).body.response, { result: true });
      const done = await eventually('the end of the run', async () => {
        const v = await view(fin);
        return v.status === 'Stopped' && v.detailedState.finished ? v : undefined;
      });
      t.notOk(done.detailedState.error, 'no error');

      const cjs = await bot('cjs', 'cjs-bot');
      t.same((await start(cjs)).body.response, { result: true });
      await eventually('the CommonJS bot\'s state', async () => ((await view(cjs)).detailedState.cjs ? true : undefined));
      const nested = await bot('nested', 'sub/nested');
      t.same((await start(nested)).body.response, { result: true });
      await eventually('the nested module\'s state', async () => ((await view(nested)).detailedState.nested ? true : undefined));
      t.same((await call(sb, 'PUT', `/bots/${cjs}/stop`)).body.response, { result: true });
      t.same((await call(sb, 'PUT', `/bots/${nested}/stop`)).body.response, { result: true });
    });

    t.test('whatever a bot posts on its port cannot break the server', async (t) => {
      const id = await bot('rogue', 'rogue');
      t.same((await start(id)).body.response, { result: true });
      const v = await eventually('its sane state', async () => {
        const b = await view(id);
        return b.detailedState.sane ? b : undefined;
      });
      t.equal(v.status, 'Running');
      t.same((await call(sb, 'PUT', `/bots/${id}/stop`)).body.response, { result: true });
    });

    t.test('modules that cannot run fail start with a clear error', async (t) => {
      const cases: Array<[string, string, RegExp]> = [
        ['noexport', 'noexport', /exports no run function/],
        ['broken', 'broken', /SyntaxError/],
        ['slowload', 'slowload', /loading took longer than 1500 ms/],
        ['escape', 'escape', /module 'escape' was not found in the bots directory/],
        ['missing', 'not_there', /module 'not_there' was not found/],
      ];
      for (const [name, moduleName, error] of cases) {
        const id = await bot(name, moduleName);
        const a = await start(id);
        t.equal(a.status, 200, name);
        t.same(a.body.response, { result: false }, `${name}: result false`);
        t.match((a.body.errors as string[])[0], error, `${name}: the error says why`);
        t.notMatch((a.body.errors as string[])[0], /\n\s+at /, `${name}: no stack trace`);
        const v = await view(id);
        t.equal(v.status, 'Stopped');
        t.match(v.detailedState.error.message, error);
        t.notOk(runner.isRunning(id));
      }
    });

    t.test('a bot that blocks its thread does not block the server, and stop terminates it', async (t) => {
      const id = await bot('stubborn', 'stubborn');
      t.same((await start(id)).body.response, { result: true });
      await eventually('its state', async () => ((await view(id)).detailedState.summary.text === 'spinning' ? true : undefined));
      const list = await call(sb, 'GET', '/bots');
      t.equal(list.status, 200, 'the API answers while the bot spins');
      t.equal(list.body.response.bots.find((b: { id: number }) => b.id === id).status, 'Running');
      const stopped = await call(sb, 'PUT', `/bots/${id}/stop`);
      t.same([stopped.body.errors, stopped.body.response], ['', { result: true }]);
      t.equal((await view(id)).status, 'Stopped');
      t.match(logText(), /warn bot \d+ \(stubborn\) ignored its stop signal for 300 ms and was terminated/);
    });

    t.test('kernel stop ends every bot, even one that ignores its stop signal', async (t) => {
      t.same((await start(ids.stubborn)).body.response, { result: true });
      t.same((await start(ids.ticker)).body.response, { result: true });
      t.equal(runner.runningCount, 2);
      await sb.kernel.stop();
      t.equal(sb.kernel.state, 'stopped', 'stop finished');
      t.equal(runner.runningCount, 0, 'no bot runs');
      t.equal(logText().match(/\(stubborn\) ignored its stop signal for 300 ms and was terminated/g)?.length, 2, 'the spinning bot was terminated after the grace period');
      const { knex } = openDatabase(db.url);
      try {
        const runs = await knex('redball_bot_runs').select('bot_id', 'status');
        t.ok(runs.length >= 10);
        t.same(runs.filter((r: { status: string }) => r.status !== 'stopped'), [], 'every run is recorded as stopped');
        // Simulate a crash of a previous process: a run left as running.
        await knex('redball_bot_runs').where({ bot_id: ids.stubborn }).update({ status: 'running' });
      } finally {
        await knex.destroy();
      }
    });

    t.test('the next kernel starts the autoRun bots and forgets stale runs', async (t) => {
      const next = await startTestKernel({ database: db.url, plugins: [{ plugin: redballPlugin, config: pluginConfig }] });
      t.teardown(next.close);
      const ticking = await eventually('the autoRun bot to run', async () => {
        const v = (await call(next, 'GET', `/bots/${ids.ticker}`)).body.response.bots[0];
        return v.status === 'Running' && v.detailedState.n >= 2 ? v : undefined;
      });
      t.equal(ticking.detailedState.label, 'from settings');
      const all = (await call(next, 'GET', '/bots')).body.response.bots as Array<{ id: number; status: string }>;
      t.same(all.filter((b) => b.status === 'Running').map((b) => b.id), [ids.ticker], 'only the autoRun bot runs; the stale run is reset');
      await next.close();
      t.equal(next.kernel.context('redball').container.resolve(BotRunner).runningCount, 0);
    });
  });
}
