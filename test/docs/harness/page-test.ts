/**
 * Docs are tests: the tap test of one Markdown page. The page is read when the test runs, so
 * a changed page is tested as it now reads.
 *
 * Every fenced block of the page is one of these (the format, also in docs/writing-a-plugin.md,
 * "Documentation is tested"):
 *
 * | block | what the test does |
 * |---|---|
 * | ```sh / ```bash | runs it in bash, in page order, one shell for the whole page (run-page.ts) |
 * | ```js | runs it with node as an ES module in the page's directory; when its first line is a comment naming a file (`// echo-bot.mjs`), saves it there instead, for the page's commands to run |
 * | ```ts | type-checks it in a scratch host that installed the package (typescript.ts) |
 * | ```ts file=path | checks that it is quoted verbatim from that file |
 * | ```yaml | checks it as a standalone configuration: `switchboard migrate -c <it>` on a throwaway SQLite database |
 * | ```json | parses it |
 * | ```<lang> output | the expected output of the block right before it (expected.ts) |
 * | anything else | must carry the marker |
 *
 * A block the tests cannot run has a visible line right above it:
 * `> Not run by the docs tests: <why>.` The test counts those blocks and prints
 * `docs: <page>: N blocks run, M blocks marked`.
 *
 * Pages whose blocks talk to the server run once on SQLite and, when `PG_URL` is set, once
 * more with `DATABASE_URL` naming a fresh PostgreSQL database: one server per page and database.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { createTestDatabase, databaseKinds, type DatabaseKind } from '../../../src/testing/index.js';
import { showsExpected } from './expected.js';
import { parseBlocks, type Block } from './markdown.js';
import { prepareProjectDir, REPO, runPage, type PageRun } from './run-page.js';
import { typecheckBlocks } from './typescript.js';

/** Options of a page's test. */
export interface PageTestOptions {
  /** Extra modules of the TypeScript scratch host (file name → source). */
  hostFiles?: Record<string, string>;
}

const where = (page: string, block: Block | number) => `${page}:${typeof block === 'number' ? block : block.line}`;
/**
 * The end of a text for a failure report, without the secrets a first start prints on
 * standard error (an Anope token, Owncast's stream key): a test report is a log too.
 */
const tail = (text: string, n = 3000) => {
  const redacted = text.replace(/anope_[\w-]{16,}/g, 'anope_(redacted)').replace(/(stream key: )\S+/g, '$1(redacted)');
  return redacted.length > n ? `…${redacted.slice(-n)}` : redacted;
};

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Declares the tap tests of one page. */
export function testPage(page: string, options: PageTestOptions = {}): void {
  // A page runs a server per database and a CLI process per command: on a busy machine that
  // can take longer than tap's default per-file timeout.
  t.setTimeout(600_000);
  t.test(`docs: ${page}`, async (t) => {
    const blocks = parseBlocks(fs.readFileSync(path.join(REPO, page), 'utf8'));
    const live = blocks.filter((b) => !b.marked);
    const marked = blocks.filter((b) => b.marked);
    const outputs = live.filter((b) => b.kind === 'output');
    const run = live.filter((b) => b.kind !== 'output');

    for (const block of marked) t.comment(`${where(page, block)} marked: ${block.marked}`);
    for (const block of live.filter((b) => b.kind === 'other')) {
      t.fail(`${where(page, block)}: a \`\`\`${block.lang || '(no language)'} block is neither run nor marked: mark it ("> Not run by the docs tests: why.") or give it a kind`);
    }
    for (const block of live.filter((b) => b.kind === 'json')) {
      t.doesNotThrow(() => JSON.parse(block.text), `${where(page, block)} json parses`);
    }
    for (const block of live.filter((b) => b.kind === 'quoted')) {
      const source = fs.readFileSync(path.join(REPO, block.quotedFrom!), 'utf8');
      t.ok(source.includes(block.text), `${where(page, block)} quoted verbatim from ${block.quotedFrom}`);
    }
    for (const block of live.filter((b) => b.kind === 'js' && b.file)) {
      const stem = path.basename(block.file!).replace(/\.[^.]+$/, '');
      const later = live.filter((b) => b.kind === 'shell' && b.line > block.line);
      t.ok(later.some((b) => b.text.includes(stem)), `${where(page, block)} ${block.file} is used by a command after it`);
    }

    // Everything slow starts at once: the type check, the configurations, and the page's run
    // on each database (independent directories, ports and databases); then the checks.
    const ts = live.filter((b) => b.kind === 'ts');
    const yaml = live.filter((b) => b.kind === 'yaml');
    const shell = live.filter((b) => b.kind === 'shell' || b.kind === 'js');
    const host = ts.length || yaml.length ? tempDir('swb-docs-ts-') : undefined;
    if (host) {
      t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));
      prepareProjectDir(host);
    }
    const typechecked = host && ts.length ? typecheckBlocks(ts, host, options.hostFiles) : Promise.resolve([]);
    const configs = host ? Promise.all(yaml.map((block) => checkConfig(block, host))) : Promise.resolve([]);
    const runs = (shell.length ? databaseKinds() : []).map((kind) => ({ kind, result: runOn(t, kind, blocks) }));
    // A failure of one must not leave the others unobserved.
    for (const p of [typechecked, configs, ...runs.map((r) => r.result)]) p.catch(() => undefined);

    const errors = await typechecked;
    for (const block of ts) {
      const mine = errors.filter((e) => e.block === block);
      t.same(mine.map((e) => `${where(page, e.line)} ${e.message}`), [], `${where(page, block)} ts compiles`);
    }
    (await configs).forEach((result, i) => t.ok(result.ok, `${where(page, yaml[i])} yaml is a valid configuration`, { stderr: tail(result.stderr) }));

    for (const { kind, result: running } of runs) {
      await t.test(kind, async (t) => {
        const result = await running;
        for (const r of result.runs) {
          const label = `${where(page, r.block)} ${r.block.kind} block`;
          if (r.status !== 'ok') {
            t.fail(`${label} ${r.status === 'failed' ? 'fails' : 'is not reached (an earlier block failed)'}`, {
              stdout: tail(r.stdout),
              stderr: tail(r.stderr),
              ...(r.status === 'failed' ? { exitCode: result.exitCode, server: tail(result.serverOut, 2000) } : {}),
            });
            continue;
          }
          t.pass(`${label} exits 0 (${((r.ms ?? 0) / 1000).toFixed(1)} s)`);
          for (const c of r.commands) {
            t.ok(c.actual !== undefined && showsExpected(c.actual, c.expected), `${where(page, c.line)} prints ${c.expected.split('\n')[0]}`, {
              expected: c.expected,
              found: tail(c.actual ?? '(nothing)'),
              ...(c.exitCode ? { exitCode: c.exitCode, stderr: tail(c.stderr, 1500) } : {}),
            });
          }
          if (r.block.output) {
            t.ok(showsExpected(r.stdout + r.stderr, r.block.output.text), `${where(page, r.block.output)} shows the output of the block before`, {
              expected: r.block.output.text,
              found: tail(r.stdout + r.stderr),
            });
          }
        }
      });
    }
    t.comment(
      `docs: ${page}: ${run.length} blocks run, ${marked.length} blocks marked ` +
        `(${count(run, 'shell')} shell, ${count(run, 'js')} js, ${count(run, 'ts')} ts compiled, ${count(run, 'quoted')} quoted, ` +
        `${count(run, 'yaml')} yaml checked, ${count(run, 'json')} json parsed; ${outputs.length} expected outputs)`,
    );
  });
}

function count(blocks: Block[], kind: Block['kind']): number {
  return blocks.filter((b) => b.kind === kind).length;
}

/** Runs the page once on a database, in a fresh project directory (removed when the test ends). */
async function runOn(t: Test, kind: DatabaseKind, blocks: Block[]): Promise<PageRun> {
  const cwd = tempDir('swb-docs-');
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  prepareProjectDir(cwd);
  const env: NodeJS.ProcessEnv = {};
  if (kind === 'postgres') {
    const db = await createTestDatabase('postgres');
    t.teardown(db.drop);
    env.DATABASE_URL = db.url;
  }
  return runPage({ blocks, cwd, env });
}

/** A yaml block is a standalone configuration: the CLI loads it and prepares every plugin with it. */
async function checkConfig(block: Block, dir: string): Promise<{ ok: boolean; stderr: string }> {
  const file = path.join(dir, `config-L${block.line}.yaml`);
  fs.writeFileSync(file, block.text);
  const bin = path.join(dir, 'node_modules', '.bin', 'switchboard');
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, `config-L${block.line}.db`)}` };
  delete env.NODE_OPTIONS;
  delete env.SWITCHBOARD_CONFIG;
  return promisify(execFile)(process.execPath, [bin, 'migrate', '-c', file], { cwd: dir, env }).then(
    () => ({ ok: true, stderr: '' }),
    (err: { stderr?: string; message: string }) => ({ ok: false, stderr: err.stderr || err.message }),
  );
}
