/**
 * The outbox's floor on this machine: the least one lane can cost with the same driver and the
 * same guarantees, written with nothing of Switchboard. A bare node:http server on SQLite
 * (node-sqlite3, WAL, `synchronous = NORMAL`, as the kernel opens it): `POST /enqueue` stores
 * one delivery, concurrent requests sharing one autocommitted `INSERT`, and answers once it is
 * durable; one lane POSTs its head to the receiver over a kept-alive connection and, once
 * answered, records the outcome and makes the next delivery its head in one statement, before
 * it sends that one. `GET /delivered` answers how many were delivered, `GET /stats` how many
 * the database holds as delivered.
 *
 * It has no attempt log, no retries, no signing, no URL policy, no tracing, no metrics and
 * no plugin API: every figure of the real outbox is at most this one. The bench prints the
 * two side by side, measured alike in the same run, so that a run says how much of the
 * machine's own limit the outbox reaches (docs/performance.md).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sqlite3 from 'sqlite3';

/** Where the floor stores its deliveries and where it delivers them. */
export interface OutboxFloorOptions {
  /** The SQLite file (created). */
  file: string;
  /** The receiver's URL: one lane. */
  target: string;
}

/** One queued delivery, as the lane holds it. */
interface Queued {
  id: number;
  body: Buffer;
}

/** Starts the floor server on a free port of 127.0.0.1; answers the port. */
export async function startOutboxFloor({ file, target }: OutboxFloorOptions): Promise<number> {
  const db = new sqlite3.Database(file);
  const run = (sql: string, bindings: unknown[] = []) => new Promise<void>((resolve, reject) => db.run(sql, bindings, (err) => (err ? reject(err) : resolve())));
  for (const sql of [
    'PRAGMA journal_mode = WAL',
    'PRAGMA synchronous = NORMAL',
    `CREATE TABLE outbox (id INTEGER PRIMARY KEY, status TEXT NOT NULL, body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
       last_status INTEGER, finished_at INTEGER)`,
    `CREATE INDEX outbox_queued ON outbox (id) WHERE status = 'queued'`,
  ]) {
    await run(sql);
  }
  // The outcome of the head and the next head, in one statement.
  const finish = db.prepare(`UPDATE outbox SET
       status = CASE id WHEN ?1 THEN 'delivered' ELSE 'delivering' END,
       attempts = CASE id WHEN ?1 THEN attempts + 1 ELSE attempts END,
       last_status = CASE id WHEN ?1 THEN ?2 ELSE last_status END,
       finished_at = CASE id WHEN ?1 THEN ?3 ELSE finished_at END
     WHERE id IN (?1, ?4)`);
  const agent = new http.Agent({ keepAlive: true });
  const url = new URL(target);

  let delivered = 0;
  const queued: Queued[] = [];
  let head: Queued | undefined;
  let waiting: http.ServerResponse[] = [];
  let inserting = false;

  const post = (body: Buffer) =>
    new Promise<number>((resolve) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end(body);
    });

  const lane = async () => {
    while (head) {
      const status = await post(head.body);
      const next = queued.shift();
      await new Promise<void>((resolve, reject) => finish.run([head!.id, status, Date.now(), next?.id ?? -1], (err) => (err ? reject(err) : resolve())));
      delivered++;
      head = next;
    }
  };

  const insert = async () => {
    inserting = true;
    while (waiting.length > 0) {
      const answers = waiting;
      waiting = [];
      const bodies = answers.map(() => Buffer.from(JSON.stringify({ type: 'CHAT', at: Date.now() })));
      const sql = `INSERT INTO outbox (status, body) VALUES ${bodies.map(() => "('queued', ?)").join(', ')} RETURNING id`;
      const ids = await new Promise<Array<{ id: number }>>((resolve, reject) => db.all(sql, bodies, (err, rows) => (err ? reject(err) : resolve(rows as Array<{ id: number }>))));
      ids.sort((a, b) => a.id - b.id).forEach((row, i) => queued.push({ id: row.id, body: bodies[i] }));
      for (const res of answers) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      if (!head) {
        head = queued.shift()!;
        await run(`UPDATE outbox SET status = 'delivering' WHERE id = ?`, [head.id]);
        lane().catch(fail);
      }
    }
    inserting = false;
  };

  const fail = (err: unknown) => {
    process.stderr.write(`outbox floor failed: ${String(err)}\n`);
    process.exit(1);
  };
  const json = (res: http.ServerResponse, body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/delivered') return void json(res, { delivered });
    if (req.method === 'GET' && req.url === '/stats') {
      // As the outbox's own stats: what the database holds as delivered.
      return void db.get(`SELECT count(*) AS n FROM outbox WHERE status = 'delivered'`, (err, row: { n: number }) => (err ? fail(err) : json(res, { delivered: row.n })));
    }
    req.resume();
    req.on('end', () => {
      waiting.push(res);
      if (!inserting) insert().catch(fail);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
