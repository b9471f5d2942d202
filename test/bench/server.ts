/**
 * A benchmark server in its own process, so the load generator never shares its event
 * loop. Started by the harness as `node server.js <kind> <json>`; prints `READY <port>`.
 *
 * Kinds: `node` (a bare node:http handler, the ceiling), `express` (a bare Express 5 route,
 * the floor Switchboard stands on; its server built with `expressServerOptions` on request), `kernel` (one trivial validated plugin route), `receiver` (a
 * webhook receiver), `outbox` (an endpoint that enqueues deliveries), `outbox-floor` (the same
 * endpoint and one lane without Switchboard: see outbox-floor.ts). The standalone server is
 * not started here: the harness runs the bundle `npm start` runs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { definePlugin, expressServerOptions, GroupCommit, Kernel, Type } from '../../src/index.js';
import { startOutboxFloor, type OutboxFloorOptions } from './outbox-floor.js';

const PAYLOAD = JSON.stringify({ id: '10', display: 'Adam', email: 'adam@sigterm.info' });

async function main(): Promise<void> {
  const [kind, arg] = process.argv.slice(2);
  let port: number;
  if (kind === 'node') {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(PAYLOAD) });
      res.end(PAYLOAD);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  } else if (kind === 'express') {
    // `{"prototypes": true}`: the server built with expressServerOptions (as the standalone's).
    const options = JSON.parse(arg ?? '{}') as { prototypes?: boolean };
    const app = express();
    app.disable('x-powered-by');
    app.get('/bench', (_req, res) => void res.json(JSON.parse(PAYLOAD)));
    const server = options.prototypes ? http.createServer(expressServerOptions(app), app) : http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  } else if (kind === 'kernel') {
    // A trivial validated plugin route: what the kernel itself costs over Express.
    // `{"disableProto": true}`: without Object.prototype.__proto__, as the standalone server runs.
    // `{"metrics": false}`: without the kernel's Prometheus metrics (they are on by default).
    const options = JSON.parse(arg ?? '{}') as { disableProto?: boolean; metrics?: boolean };
    if (options.disableProto) await import('../../examples/standalone/disable-proto.js');
    const app = express();
    app.disable('x-powered-by');
    const trivial = definePlugin({
      id: 'trivial',
      version: '1',
      init(ctx) {
        ctx.routes.add({
          method: 'GET',
          path: '/bench/:id',
          params: Type.Object({ id: Type.Integer() }),
          query: Type.Object({ verbose: Type.Optional(Type.Boolean()) }),
          handler: () => JSON.parse(PAYLOAD),
        });
      },
    });
    const kernel = new Kernel({ app, database: 'sqlite::memory:', logger: { level: 'warn', destination: process.stderr }, plugins: [trivial], ...(options.metrics === false ? { metrics: false as const } : {}) });
    await kernel.start();
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  } else if (kind === 'receiver') {
    // A webhook receiver that answers 200 after `delayMs`; GET answers how many POSTs arrived.
    const { delayMs = 0 } = JSON.parse(arg ?? '{}') as { delayMs?: number };
    let received = 0;
    const server = http.createServer((req, res) => {
      if (req.method === 'GET') return void res.end(String(received));
      req.resume();
      req.on('end', () => {
        received++;
        // At once means in this turn: even a 0 ms timer waits a millisecond or more.
        if (delayMs === 0) res.writeHead(200).end('ok');
        else setTimeout(() => res.writeHead(200).end('ok'), delayMs);
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  } else if (kind === 'outbox') {
    // An endpoint that enqueues one delivery per target, like a chat message with webhooks,
    // and as Owncast's chat send does: concurrent requests' deliveries are written together,
    // in one transaction (GroupCommit), and each request is answered once its deliveries are
    // durable.
    const { targets = [], database } = JSON.parse(arg ?? '{}') as { targets?: string[]; database: string };
    const app = express();
    app.disable('x-powered-by');
    const notifier = definePlugin({
      id: 'notifier',
      version: '1',
      init(ctx) {
        const events = new GroupCommit<number, void>(ctx.db, {
          write: async (ats, trx) => {
            await ctx.outbox.enqueueMany(ats.flatMap((at) => targets.map((url) => ({ url, body: { type: 'CHAT', at } }))), { trx });
            return ats.map(() => undefined);
          },
        });
        ctx.routes.add({
          method: 'POST',
          path: '/enqueue',
          handler: async () => {
            await events.submit(Date.now());
            return { ok: true };
          },
        });
        // Deliveries are counted as their outcomes are reported (after each is durable), so
        // that watching a run costs the database nothing: polling the stored counts (two
        // GROUP BY queries over up to 10,000 rows every 50 ms) took turns on SQLite's one
        // connection with the work being measured. The stored counts are checked once, after.
        let delivered = 0;
        ctx.outbox.onAttempt((outcome) => {
          if (outcome.next === 'delivered') delivered++;
        });
        ctx.routes.add({ method: 'GET', path: '/delivered', handler: () => ({ delivered }) });
        ctx.routes.add({ method: 'GET', path: '/stats', handler: () => ctx.outbox.stats() });
      },
    });
    const kernel = new Kernel({ app, database, logger: { level: 'warn', destination: process.stderr }, plugins: [notifier], outbox: { allow: ['127.0.0.0/8'], concurrency: 32 } });
    await kernel.start();
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    process.once('SIGTERM', () => void kernel.stop().then(() => process.exit(0)));
  } else if (kind === 'outbox-floor') {
    port = await startOutboxFloor(JSON.parse(arg ?? '{}') as OutboxFloorOptions);
  } else {
    throw new Error(`unknown bench server kind '${kind}'`);
  }
  process.stdout.write(`READY ${port}\n`);
}

void main().catch((err) => {
  process.stderr.write(`bench server failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
