/** The startup baseline: the smallest Express 5 app that listens and answers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

const app = express();
app.get('/', (_req, res) => void res.json({ ok: true }));
const server = http.createServer(app);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`);
});
