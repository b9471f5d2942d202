/** Shared helpers of the owncast tests: a kernel with the plugin, auth headers, chat clients. */
import { WebSocket } from 'ws';
import { owncastPlugin, OwncastTokens, type Owncast } from '../../../plugins/owncast/index.js';
import { startTestKernel, type DatabaseKind, type TestKernel } from '../../../src/testing/index.js';

/** The stream key the tests configure. */
export const KEY = 'test-stream-key-42';

/** HTTP Basic headers for `user:password`. */
export function basic(password = KEY, user = 'admin'): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** Bearer headers. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A kernel with the owncast plugin and test-friendly intervals. */
export async function startOwncast(database: DatabaseKind | string, config: Record<string, unknown> = {}): Promise<TestKernel> {
  return startTestKernel({
    database: database as DatabaseKind,
    plugins: [{ plugin: owncastPlugin, config: { streamKey: KEY, refreshIntervalMs: 100, ...config } }],
  });
}

/** The plugin's services in a running test kernel. */
export function owncastOf(sb: TestKernel): Owncast {
  return sb.kernel.context('owncast').container.resolve<Owncast>(OwncastTokens.Owncast);
}

/** Sends JSON with a method. */
export function send(sb: TestKernel, path: string, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return sb.fetch(path, { method, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** POSTs JSON. */
export function post(sb: TestKernel, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return send(sb, path, 'POST', body, headers);
}

/** GETs JSON (admin credentials by default). */
export async function getJson<T = any>(sb: TestKernel, path: string, headers: Record<string, string> = basic()): Promise<T> {
  const res = await sb.fetch(path, { headers });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits until `cond` holds (polling), or fails after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A chat websocket client that records every frame it receives. */
export interface ChatTestClient {
  socket: WebSocket;
  frames: Array<Record<string, any>>;
  send(frame: unknown): void;
  /** Resolves with the first recorded frame matching `pred` (waiting for it if needed). */
  next(pred: (f: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
  close(): Promise<void>;
}

/** Connects a chat client to `/entry`. */
export async function chatClient(sb: TestKernel, userAgent = 'owncast-test'): Promise<ChatTestClient> {
  const socket = new WebSocket(`${sb.url.replace('http', 'ws')}/entry`, { headers: { 'user-agent': userAgent } });
  const frames: Array<Record<string, any>> = [];
  socket.on('message', (data) => {
    for (const line of String(data).split('\n')) frames.push(JSON.parse(line) as Record<string, any>);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    frames,
    send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    async next(pred, ms = 5000) {
      let found: Record<string, any> | undefined;
      await until(() => (found = frames.find(pred)) !== undefined, ms, 'chat frame');
      return found!;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === socket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}
