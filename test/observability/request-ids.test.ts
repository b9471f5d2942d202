/**
 * Request ids: taken from the client when well-formed, else made; echoed on the response;
 * on every log line written while serving the request (plugin lines included); and the
 * access log, when on, carries it without secrets. On SQLite and PostgreSQL.
 */
import { Writable } from 'node:stream';
import t from 'tap';
import { currentRequestId, definePlugin, REQUEST_ID_PATTERN } from '../../src/index.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';

function linesSink(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

const chatty = definePlugin({
  id: 'chatty',
  version: '1',
  init(ctx) {
    ctx.routes.add({
      method: 'GET',
      path: '/chatty/hello',
      handler: async ({ log }) => {
        log.info('handling hello');
        await new Promise((r) => setTimeout(r, 5));
        ctx.logger.warn('still handling hello, after an await');
        return { id: currentRequestId() };
      },
    });
  },
});

for (const db of databaseKinds()) {
  t.test(`${db}: ids echoed, on plugin log lines, and in the access log without secrets`, async (t) => {
    const { lines, stream } = linesSink();
    const sb = await startTestKernel({ database: db, plugins: [chatty], accessLog: true, logger: { level: 'info', destination: stream } });
    t.teardown(sb.close);

    const given = 'client-id_1.2:3';
    let res = await sb.fetch('/chatty/hello?apikey=very-secret-api-key&x=1', { headers: { 'X-Request-Id': given, Authorization: 'Bearer header-secret-token', Cookie: 'session=cookie-secret' } });
    t.equal(res.headers.get('x-request-id'), given, 'a well-formed id is kept and echoed');
    t.same(await res.json(), { id: given }, 'the handler sees it through AsyncLocalStorage');
    await new Promise((r) => setTimeout(r, 50));
    const mine = lines.filter((l) => l.requestId === given);
    t.ok(mine.some((l) => l.msg === 'handling hello' && l.plugin === 'chatty'), 'the route logger line carries it');
    t.ok(mine.some((l) => l.msg === 'still handling hello, after an await'), 'a plugin line after an await carries it');
    const access = lines.find((l) => (l.req as { id?: string } | undefined)?.id === given);
    t.ok(access, 'an access log line');
    t.equal((access?.res as { statusCode?: number }).statusCode, 200);
    t.match(String((access?.req as { url?: string }).url), /apikey=\[REDACTED\]&x=\[REDACTED\]$/, 'every query value is blanked, the api key first');
    t.notOk(sb.kernel.logs.entries().some((e) => e.message === 'request completed'), 'access lines stay out of the log ring (traffic must not push warnings out of it)');
    t.ok(sb.kernel.logs.entries().some((e) => e.message === 'handling hello'), '… which still holds the plugin lines');
    const all = lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of ['very-secret-api-key', 'header-secret-token', 'cookie-secret']) t.notOk(all.includes(secret), `${secret} is in no log line`);

    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
      res = await sb.fetch('/chatty/hello', { headers: { 'X-Request-Id': bad } });
      const id = res.headers.get('x-request-id') ?? '';
      t.not(id, bad, `a malformed id (${bad.slice(0, 20)}) is replaced`);
      t.match(id, REQUEST_ID_PATTERN);
      await res.body?.cancel();
    }
    res = await sb.fetch('/chatty/hello');
    const made = res.headers.get('x-request-id');
    t.match(made, /^[0-9a-f-]{36}$/, 'made when absent');
    await res.body?.cancel();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await sb.fetch('/chatty/hello');
      ids.add(r.headers.get('x-request-id') ?? '');
      await r.body?.cancel();
    }
    t.equal(ids.size, 5, 'a fresh id per request');
    t.equal(lines.filter((l) => l.msg === 'switchboard started')[0]?.requestId, undefined, 'lines outside requests carry none');
  });
}

t.test('the access log is off by default in the embedded kernel', async (t) => {
  const { lines, stream } = linesSink();
  const sb = await startTestKernel({ plugins: [chatty], logger: { level: 'info', destination: stream } });
  t.teardown(sb.close);
  const res = await sb.fetch('/chatty/hello');
  t.ok(res.headers.get('x-request-id'));
  await res.body?.cancel();
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(lines.some((l) => l.req !== undefined || l.msg === 'request completed'), 'no access line');
  t.ok(lines.some((l) => l.msg === 'handling hello' && typeof l.requestId === 'string'), 'plugin lines still carry the id');
});

t.test('at level warn the access log still writes 5xx lines (at error), and only those', async (t) => {
  const { lines, stream } = linesSink();
  const failing = definePlugin({
    id: 'failing',
    version: '1',
    init(ctx) {
      ctx.routes.add({ method: 'GET', path: '/failing/boom', handler: () => Promise.reject(new Error('boom')) });
    },
  });
  const sb = await startTestKernel({ plugins: [chatty, failing], accessLog: true, logger: { level: 'warn', destination: stream } });
  t.teardown(sb.close);
  let res = await sb.fetch('/chatty/hello', { headers: { 'X-Request-Id': 'warn-ok-1' } });
  await res.body?.cancel();
  res = await sb.fetch('/failing/boom?token=boom-secret', { headers: { 'X-Request-Id': 'warn-boom-1' } });
  t.equal(res.status, 500);
  await res.body?.cancel();
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(lines.some((l) => (l.req as { id?: string } | undefined)?.id === 'warn-ok-1'), 'no access line for a 200 below the level');
  const boom = lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'warn-boom-1');
  t.equal(boom?.level, 50, 'the 5xx access line, at error');
  t.equal(boom?.msg, 'request errored');
  t.equal(boom?.requestId, 'warn-boom-1');
  t.match(String((boom?.req as { url?: string } | undefined)?.url), /token=\[REDACTED\]$/);
  t.equal((boom?.res as { statusCode?: number } | undefined)?.statusCode, 500);
  t.ok(sb.kernel.logs.entries().some((e) => e.message === 'handling hello'), 'the ring still keeps info lines');

  // The same line as at info, where pino-http writes it (but for the times and the stack).
  const info = linesSink();
  const sbInfo = await startTestKernel({ plugins: [chatty, failing], accessLog: true, logger: { level: 'info', destination: info.stream } });
  t.teardown(sbInfo.close);
  res = await sbInfo.fetch('/failing/boom?token=boom-secret', { headers: { 'X-Request-Id': 'warn-boom-1' } });
  await res.body?.cancel();
  await new Promise((r) => setTimeout(r, 50));
  const atInfo = info.lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'warn-boom-1');
  const comparable = (l: Record<string, unknown> | undefined) => {
    const { time: _time, responseTime, err, ...rest } = l ?? {};
    const { stack: _stack, ...errRest } = (err ?? {}) as Record<string, unknown>;
    return { ...rest, responseTime: typeof responseTime, err: errRest, keys: Object.keys(l ?? {}) };
  };
  t.same(comparable(boom), comparable(atInfo), 'the line is the one pino-http writes at info');
});
