/** Shared helpers of the anope tests. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { anopePlugin, AnopeObjects, type AnopeObjectStore } from '../../../plugins/anope/index.js';
import { Kernel, validateConfig, type PluginEntry } from '../../../src/index.js';
import { createTestDatabase, startTestKernel, type DatabaseKind, type TestKernel, type TestKernelOptions } from '../../../src/testing/index.js';
import { createStandalone } from '../../../examples/standalone/app.js';
import { StandaloneConfigSchema, type StandaloneConfig } from '../../../examples/standalone/config.js';

const run = promisify(execFile);

/** A response read completely. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** A test kernel with the anope plugin and request shorthands. */
export interface AnopeKernel extends TestKernel {
  store: AnopeObjectStore;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  post(path: string, body: string, headers?: Record<string, string>): Promise<Answer>;
  put(path: string, body: string, headers?: Record<string, string>): Promise<Answer>;
  del(path: string, headers?: Record<string, string>): Promise<Answer>;
  request(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Answer>;
  /** Creates an object through the API and returns its id (fails the call on a non-201). */
  create(type: string, fields: Record<string, unknown>): Promise<string>;
}

/** Starts a kernel with the anope plugin (auth `none` unless the config says otherwise). */
export async function startAnope(kind: DatabaseKind, config: Record<string, unknown> = {}, extra: Partial<TestKernelOptions> & { plugins?: TestKernelOptions['plugins']; mount?: string } = {}): Promise<AnopeKernel> {
  const entry: PluginEntry = { plugin: anopePlugin, config: { auth: 'none', ...config }, mount: extra.mount };
  const sb = await startTestKernel({ ...extra, database: kind, plugins: [entry, ...(extra.plugins ?? [])] });
  return withShorthands(sb, extra.mount ?? '');
}

/** Adds the request shorthands to a test kernel. */
export function withShorthands(sb: TestKernel, prefix = ''): AnopeKernel {
  const request = async (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await sb.fetch(`${prefix}${path}`, { method, body, headers: body === undefined ? headers : { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const api: AnopeKernel = Object.assign(sb, {
    store: sb.kernel.container.resolve<AnopeObjectStore>(AnopeObjects),
    request,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, body: string, headers?: Record<string, string>) => request('POST', path, body, headers),
    put: (path: string, body: string, headers?: Record<string, string>) => request('PUT', path, body, headers),
    del: (path: string, headers?: Record<string, string>) => request('DELETE', path, undefined, headers),
    async create(type: string, fields: Record<string, unknown>) {
      const res = await request('POST', `/rest/${type}`, JSON.stringify(fields));
      if (res.status !== 201) throw new Error(`create ${type} answered ${res.status} ${res.text}`);
      return res.text;
    },
  });
  return api;
}

/** Folds whitespace the way the spec's text has it folded. */
export function fold(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Makes the next new id `next` by creating and deleting filler objects. */
export async function advanceIdsTo(store: AnopeObjectStore, next: number): Promise<void> {
  const probe = Number(await store.create('stats', {}));
  await store.delete('stats', probe);
  const missing = next - probe - 1;
  if (missing < 0) throw new Error(`ids are already past ${next}`);
  if (missing === 0) return;
  const ids = await store.createMany('stats', Array.from({ length: missing }, () => ({})));
  for (const id of ids) await store.delete('stats', Number(id));
}

/** The standalone server with only the anope plugin, on a throwaway database. */
export async function startStandaloneAnope(kind: DatabaseKind, anope: Record<string, unknown>): Promise<{ url: string; kernel: Kernel; close(): Promise<void> }> {
  const db = await createTestDatabase(kind);
  const config = validateConfig<StandaloneConfig>('test', StandaloneConfigSchema, {
    server: { host: '127.0.0.1', port: 0 },
    database: { url: db.url },
    log: { level: 'silent' },
    plugins: { opsdroid: { enabled: false }, redball: { enabled: false }, talk: { enabled: false }, owncast: { enabled: false }, anope },
  });
  const standalone = createStandalone(config, { logger: { level: 'silent' } });
  let url: string;
  try {
    url = await standalone.start();
  } catch (err) {
    await db.drop();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    url,
    kernel: standalone.kernel,
    close: () =>
      (closed ??= (async () => {
        await standalone.stop();
        await db.drop();
      })()),
  };
}

/** Runs curl with these arguments; returns its standard output. */
export async function curl(args: string[]): Promise<string> {
  const { stdout } = await run('curl', ['-s', ...args], { encoding: 'utf8' });
  return stdout;
}
