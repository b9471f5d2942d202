/**
 * Test helpers (`switchboard/testing`): a kernel on an ephemeral port with chosen plugins,
 * config and database, stopped on teardown, and throwaway databases on SQLite and, when
 * `PG_URL` (or `DATABASE_URL`) points at a PostgreSQL server, on PostgreSQL too.
 *
 * ```ts
 * for (const db of databaseKinds()) {
 *   t.test(db, async (t) => {
 *     const sb = await startTestKernel({ database: db, plugins: [myPlugin] });
 *     t.teardown(sb.close);
 *     const res = await sb.fetch('/hello');
 *   });
 * }
 * ```
 *
 * Framework-neutral: it works with tap, node:test or anything else.
 *
 * @module switchboard/testing
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express, { type Express } from 'express';
import knexFactory from 'knex';
import { Kernel, type KernelOptions } from '../kernel.js';
import type { DatabaseOption } from '../db/database.js';
import { LogCapture } from './log-capture.js';

/** The engines a test can run on. */
export type DatabaseKind = 'sqlite' | 'postgres';

/** The PostgreSQL server URL for tests, from `PG_URL` or a `postgres://` `DATABASE_URL`. */
export function postgresServerUrl(): string | undefined {
  const url = process.env.PG_URL ?? process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

/** The engines to run database tests on: always SQLite, PostgreSQL when a server is configured. */
export function databaseKinds(): DatabaseKind[] {
  return postgresServerUrl() ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A throwaway database. */
export interface TestDatabase {
  /** Which engine. */
  kind: DatabaseKind;
  /** Its URL (`sqlite:/tmp/…` or `postgres://…/swb_t_…`). */
  url: string;
  /** Drops it (removes the file, or drops the PostgreSQL database). */
  drop(): Promise<void>;
}

/** Creates an empty database: a fresh SQLite file, or a fresh PostgreSQL database on the test server. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const suffix = crypto.randomBytes(6).toString('hex');
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-test-'));
    const file = path.join(dir, 'test.db');
    return { kind, url: `sqlite:${file}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const server = postgresServerUrl();
  if (!server) throw new Error('PostgreSQL tests need PG_URL=postgres://user@host:port/postgres');
  const name = `swb_t_${suffix}`;
  const admin = knexFactory({ client: 'pg', connection: server, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      const a = knexFactory({ client: 'pg', connection: server, pool: { min: 0, max: 1 } });
      try {
        await a.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.destroy();
      }
    },
  };
}

/** Options of {@link startTestKernel}: the kernel's, with the database and app made optional. */
export interface TestKernelOptions extends Omit<KernelOptions, 'database' | 'app'> {
  /** An engine (a throwaway database is created and dropped) or any database option. Default SQLite. */
  database?: DatabaseKind | DatabaseOption;
  /** An Express app to use instead of a fresh one (routes you add before are served first). */
  app?: Express;
}

/** A running test kernel. */
export interface TestKernel {
  /** The kernel. */
  kernel: Kernel;
  /** The Express app it is mounted on. */
  app: Express;
  /** The HTTP server, listening on 127.0.0.1 on an ephemeral port. */
  server: http.Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The database URL used, when the helper created it. */
  databaseUrl?: string;
  /** `fetch` relative to {@link TestKernel.url}. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the kernel, closes the server, drops the throwaway database. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a kernel on 127.0.0.1 on an ephemeral port. Outbound deliveries to loopback are
 * allowed and retried quickly; logs go only to the kernel's ring unless `logger` is given.
 *
 * When the environment variable `SWB_TEST_LOG_DIR` names a directory (and no `logger` is
 * given), the kernel's log lines (info and up) go to a file there, with the secrets the
 * kernel knows of recorded beside it — registered ones, its plugins' configured ones, those
 * sent through its API and those stored in its database — for a check after the test run
 * that no secret ever reached a log.
 */
export async function startTestKernel(options: TestKernelOptions): Promise<TestKernel> {
  const app = options.app ?? express();
  app.disable('x-powered-by');
  let throwaway: TestDatabase | undefined;
  let database: DatabaseOption;
  if (options.database === undefined || options.database === 'sqlite' || options.database === 'postgres') {
    throwaway = await createTestDatabase(options.database ?? 'sqlite');
    database = throwaway.url;
  } else database = options.database;
  const capture = options.logger ? undefined : LogCapture.open('kernel');
  if (capture) app.use(capture.middleware());
  const kernel = new Kernel({
    ...options,
    app,
    database,
    logger: options.logger ?? (capture ? { level: 'info', destination: capture.destination } : { level: 'silent' }),
    outbox: { allow: ['127.0.0.0/8', '::1/128'], pollIntervalMs: 50, backoffBaseMs: 50, backoffMaxMs: 1000, ...options.outbox },
  });
  if (capture) {
    const add = kernel.secrets.add.bind(kernel.secrets);
    kernel.secrets.add = (secret) => {
      capture.secret(secret, 'registry');
      add(secret);
    };
    for (const p of options.plugins) if ('plugin' in p && p.plugin) capture.secretsIn(p.config, `config ${p.plugin.id}`);
  }
  const server = http.createServer(app);
  kernel.attach(server);
  try {
    await kernel.start();
  } catch (err) {
    capture?.close();
    await throwaway?.drop();
    throw err;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  return {
    kernel,
    app,
    server,
    url,
    databaseUrl: throwaway?.url,
    fetch: (p, init) => fetch(`${url}${p}`, init),
    close: () =>
      (closed ??= (async () => {
        if (capture && kernel.state === 'running') await capture.secretsInDatabase(kernel.db).catch(() => undefined);
        await kernel.stop();
        capture?.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await throwaway?.drop();
      })()),
  };
}
