import t from 'tap';
import http from 'node:http';
import express from 'express';
import { WebSocket } from 'ws';
import { definePlugin, Kernel } from '../../src/index.js';
import { startTestKernel } from '../../src/testing/index.js';

const echo = definePlugin({
  id: 'echo',
  version: '1',
  init(ctx) {
    ctx.websockets.add({
      path: '/echo/:room',
      verify: (_req, params) => (params.room === 'closed' ? { status: 400, body: 'Please request a socket first', headers: { 'Access-Control-Allow-Origin': '*' } } : undefined),
      handler(ws, _req, params) {
        ws.on('message', (data) => ws.send(`${params.room}:${String(data)}`));
      },
    });
  },
});

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(body), { status: res.statusCode, cors: res.headers['access-control-allow-origin'] })));
    });
    ws.once('error', reject);
  });
}

t.test('websocket upgrades follow the lifecycle', async (t) => {
  const sb = await startTestKernel({ plugins: [{ plugin: echo, mount: '/ws' }] });
  t.teardown(sb.close);
  const wsUrl = sb.url.replace('http', 'ws');
  const ws = await open(`${wsUrl}/ws/echo/lobby`);
  const answer = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
  ws.send('hi');
  t.equal(await answer, 'lobby:hi');
  await t.rejects(open(`${wsUrl}/ws/echo/closed`), { status: 400, message: 'Please request a socket first', cors: '*' });
  await t.rejects(open(`${wsUrl}/nowhere`), { status: 404, message: 'Not Found' });
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await sb.kernel.stop();
  t.equal(await closed, 1001, 'sockets closed with going-away on stop');
});

t.test('upgrades before start are refused with 503', async (t) => {
  const app = express();
  const kernel = new Kernel({ app, database: 'sqlite::memory:', logger: { level: 'silent' }, plugins: [echo] });
  const server = http.createServer(app);
  kernel.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  // Routes of a plugin are only known after init; prepare() runs init without opening the gate.
  await kernel.prepare('server');
  await t.rejects(open(`ws://127.0.0.1:${port}/echo/x`), { status: 503, message: 'Service Unavailable' });
  await kernel.start();
  const ws = await open(`ws://127.0.0.1:${port}/echo/x`);
  ws.close();
  await kernel.stop();
});
