/**
 * `expressServerOptions(app)`: the server builds each request and response with the app's
 * prototypes, before Express sees them (so Express's `Object.setPrototypeOf` changes
 * nothing), and everything an Express app does still works: its request and response
 * helpers, bodies, HEAD, keep-alive, a mounted sub-app and the errors of its handlers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import express from 'express';
import { expressServerOptions } from '../../src/index.js';

t.test('requests and responses have the app\'s prototypes from the start', async (t) => {
  const app = express();
  const sub = express();
  sub.get('/where', (req, res) => void res.json({ sub: Object.getPrototypeOf(req) === sub.request && Object.getPrototypeOf(res) === sub.response }));
  app.use('/sub', sub);
  app.use(express.json());
  app.get('/echo', (req, res) => void res.set('X-Host', req.get('host') ?? '').json({ query: req.query, app: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response }));
  app.post('/echo', (req, res) => void res.status(201).json({ body: req.body as unknown }));
  app.get('/fail', () => {
    throw new Error('handler failed');
  });
  const server = http.createServer(expressServerOptions(app), app);
  // Before Express runs: what the server built.
  const built: boolean[] = [];
  server.prependListener('request', (req, res) => void built.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const echo = await fetch(`${base}/echo?a=1&b=two`);
  t.equal(echo.status, 200);
  t.equal(echo.headers.get('x-host'), new URL(base).host, 'req.get and res.set');
  t.same(await echo.json(), { query: { a: '1', b: 'two' }, app: true }, 'req.query and res.json');
  const posted = await fetch(`${base}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ hello: ['world'] }) });
  t.equal(posted.status, 201);
  t.same(await posted.json(), { body: { hello: ['world'] } }, 'a request body is read');
  const head = await fetch(`${base}/echo`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '', 'HEAD answers without a body');
  t.same(await (await fetch(`${base}/sub/where`)).json(), { sub: true }, 'a mounted sub-app sets its own prototypes while it runs');
  t.same(await (await fetch(`${base}/echo`)).json(), { query: {}, app: true }, 'and the app has its own again after');
  const failed = await fetch(`${base}/fail`);
  t.equal(failed.status, 500, "a handler's error reaches Express's error handling");
  await failed.text();
  t.equal((await fetch(`${base}/nothing`)).status, 404);

  // Keep-alive: several requests on one connection, each built by the server.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const sockets = new Set<unknown>();
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/echo?i=${i}`, { agent }, (res) => {
        sockets.add(res.socket);
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
    });
  }
  t.equal(sockets.size, 1, 'one connection');
  t.ok(built.length >= 10 && built.every(Boolean), `every request and response was built with the app's prototypes (${built.length})`);
});

t.test('without the options, the server builds plain ones (what the test above tells apart)', async (t) => {
  const app = express();
  app.get('/', (_req, res) => void res.json({ ok: true }));
  const server = http.createServer(app);
  let plain = false;
  server.prependListener('request', (req) => void (plain = Object.getPrototypeOf(req) === http.IncomingMessage.prototype));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  t.equal((await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)).status, 200);
  t.equal(plain, true);
});
