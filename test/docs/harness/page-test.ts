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
import { createTestDatabase, databaseKinds } from '../../../src/testing/index.js';
import { showsExpected } from './expected.js';
import { parseBlocks, type Block } from './markdown.js';
import { prepareProjectDir, REPO, runPage } from './run-page.js';
import { typecheckBlocks } from './typescript.js';

/** Options of a page's test. */
export interface PageTestOptions {
  /** Extra modules of the TypeScript scratch host (file name → source). */
  hostFiles?: Record<string, string>;
}

const where = (page: string, block: Block | number) => `${page}:${typeof block === 'number' ? block : block.line}`;
const tail = (text: string, n = 3000) => (text.length > n ? `…${text.slice(-n)}` : text);

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Declares the tap tests of one page. */
export function testPage(page: string, options: PageTestOptions = {}): void {
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

    const ts = live.filter((b) => b.kind === 'ts');
    const yaml = live.filter((b) => b.kind === 'yaml');
    if (ts.length || yaml.length) {
      const dir = tempDir('swb-docs-ts-');
      t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
      prepareProjectDir(dir);
      if (ts.length) {
        const errors = await typecheckBlocks(ts, dir, options.hostFiles);
        for (const block of ts) {
          const mine = errors.filter((e) => e.block === block);
          t.same(mine.map((e) => `${where(page, e.line)} ${e.message}`), [], `${where(page, block)} ts compiles`);
        }
      }
      for (const block of yaml) await checkConfig(t, page, block, dir);
    }

    const shell = live.filter((b) => b.kind === 'shell' || b.kind === 'js');
    if (shell.length) {
      for (const kind of databaseKinds()) {
        await t.test(kind, async (t) => {
          const cwd = tempDir('swb-docs-');
          t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
          prepareProjectDir(cwd);
          const env: NodeJS.ProcessEnv = {};
          if (kind === 'postgres') {
            const db = await createTestDatabase('postgres');
            t.teardown(db.drop);
            env.DATABASE_URL = db.url;
          }
          const result = await runPage({ blocks, cwd, env });
          for (const r of result.runs) {
            const label = `${where(page, r.block)} ${r.block.kind} block`;
            if (r.status !== 'ok') {
              t.fail(`${label} ${r.status === 'failed' ? 'fails' : 'is not reached (an earlier block failed)'}`, {
                stdout: tail(r.stdout),
                stderr: tail(r.stderr),
                ...(r.status === 'failed' ? { server: tail(result.serverErr + result.serverOut, 2000) } : {}),
              });
              continue;
            }
            t.pass(`${label} exits 0`);
            for (const c of r.commands) {
              t.ok(c.actual !== undefined && showsExpected(c.actual, c.expected), `${where(page, c.line)} prints ${c.expected.split('\n')[0]}`, {
                expected: c.expected,
                found: tail(c.actual ?? '(nothing)'),
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

/** A yaml block is a standalone configuration: the CLI loads it and prepares every plugin with it. */
async function checkConfig(t: Test, page: string, block: Block, dir: string): Promise<void> {
  const file = path.join(dir, `config-L${block.line}.yaml`);
  fs.writeFileSync(file, block.text);
  const bin = path.join(dir, 'node_modules', '.bin', 'switchboard');
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, `config-L${block.line}.db`)}` };
  delete env.NODE_OPTIONS;
  delete env.SWITCHBOARD_CONFIG;
  const result = await promisify(execFile)(process.execPath, [bin, 'migrate', '-c', file], { cwd: dir, env }).then(
    () => ({ ok: true, stderr: '' }),
    (err: { stderr?: string; message: string }) => ({ ok: false, stderr: err.stderr || err.message }),
  );
  t.ok(result.ok, `${where(page, block)} yaml is a valid configuration`, { stderr: tail(result.stderr) });
}
