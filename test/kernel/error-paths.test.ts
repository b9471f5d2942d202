/**
 * The dispatcher's error paths: an unexpected error's message never reaches the client, even
 * when the family's error responder itself fails.
 */
import t from 'tap';
import { definePlugin, HttpError, type Responder } from '../../src/index.js';
import { startTestKernel } from '../../src/testing/index.js';

t.test('a handler error is the fixed 500; a failing error responder still leaks nothing', async (t) => {
  const broken: Responder = {
    name: 'broken',
    send: (_req, res, status, body) => void res.status(status).json(body),
    error: () => {
      throw new TypeError('responder exploded: secret-detail-41');
    },
  };
  const plugin = definePlugin({
    id: 'errs',
    version: '1',
    init(ctx) {
      ctx.routes.add({ method: 'GET', path: '/throws', handler: () => { throw new RangeError('Maximum call stack size exceeded secret-detail-42'); } });
      ctx.routes.add({ method: 'GET', path: '/broken', responder: broken, handler: () => { throw new Error('secret-detail-43'); } });
      ctx.routes.add({ method: 'GET', path: '/broken-http', responder: broken, handler: () => { throw new HttpError(400, 'Bad'); } });
    },
  });
  const sb = await startTestKernel({ plugins: [plugin] });
  t.teardown(sb.close);
  const a = await sb.fetch('/throws');
  t.equal(a.status, 500);
  t.same(await a.json(), { error: 'Internal Server Error' });
  for (const path of ['/broken', '/broken-http']) {
    const res = await sb.fetch(path);
    t.equal(res.status, 500, path);
    const text = await res.text();
    t.equal(text, 'Internal Server Error', path);
    t.notMatch(text, /secret-detail|TypeError|exploded/);
  }
});
