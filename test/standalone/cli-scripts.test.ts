/**
 * The CLI for scripts: a command that creates a secret prints it alone on standard output
 * (the sentence for people goes to standard error) and `--json` gives structured output;
 * secrets can be given on standard input instead of the command line. On SQLite and
 * PostgreSQL.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { buildCli } from '../../examples/standalone/cli.js';
import { MAX_SECRET_INPUT, readSecret, verifyPassword } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { tsNodeArgs } from '../helpers/child.js';
import { checkBuilt, ROOT } from '../helpers/build.js';

interface Run {
  out: string[];
  err: string[];
  code: number;
}

/** Runs `switchboard …` in process; `stdin` is what the command's secret reader gets. */
async function run(argv: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Run> {
  const result: Run = { out: [], err: [], code: 0 };
  const prompts: string[] = [];
  const program = buildCli(['node', 'switchboard', ...argv], {
    env,
    output: { out: (l) => void result.out.push(l), err: (l) => void result.err.push(l) },
    setExitCode: (c) => void (result.code = c),
    readSecret: (prompt) => {
      prompts.push(prompt);
      if (stdin === undefined) throw new Error('the command read standard input unexpectedly');
      const input = new PassThrough();
      input.end(stdin);
      return readSecret(input, prompt);
    },
  });
  program.exitOverride();
  await program.parseAsync(argv, { from: 'user' });
  return result;
}

/** Runs the real `switchboard` entry point as a child, with `input` piped to its standard input. */
function runChild(args: string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsNodeArgs(), path.resolve('examples/standalone/bin.ts'), ...args], {
      env: { ...process.env, TS_NODE_PROJECT: path.resolve('tsconfig.json'), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

t.test('the installed command stops quietly when its reader closes the pipe (switchboard openapi | head)', async (t) => {
  const stale = checkBuilt();
  if (stale) t.comment(stale);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-epipe-'));
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/examples/standalone/bin.js'), 'openapi'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += String(c)));
  // Like `head -c 60`: read one chunk, then close the read end.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.equal(code, 0, 'exit status 0');
  t.notMatch(stderr, /EPIPE|Unhandled|\n\s+at /, 'no EPIPE error and no stack trace');
});

t.test('readSecret: a pipe is read to its end, less one newline; too much input is refused', async (t) => {
  const read = (text: string | Buffer) => {
    const input = new PassThrough();
    input.end(text);
    return readSecret(input, 'unused: ');
  };
  t.equal(await read('hunter2\n'), 'hunter2');
  t.equal(await read('hunter2\r\n'), 'hunter2');
  t.equal(await read('two words  \n\n'), 'two words  \n', 'only one trailing newline is dropped');
  t.equal(await read(''), '');
  await t.rejects(read(Buffer.alloc(MAX_SECRET_INPUT + 1, 'a')), { message: /more than 65536 bytes/ });
});

t.test('hash-password: from the argument, or from standard input (no argument)', async (t) => {
  const viaArg = await run(['hash-password', 'hunter2'], {});
  t.equal(viaArg.out.length, 1);
  t.ok(verifyPassword('hunter2', viaArg.out[0]));
  const viaStdin = await run(['hash-password'], {}, 'correct horse battery staple\n');
  t.equal(viaStdin.out.length, 1, 'the hash alone on stdout');
  t.same(viaStdin.err, []);
  t.ok(verifyPassword('correct horse battery staple', viaStdin.out[0]), 'the password as piped, newline dropped');
  const empty = await run(['hash-password'], {}, '');
  t.equal(empty.code, 1);
  t.same(empty.out, []);
  t.match(empty.err.join('\n'), /no password given/);

  // The shipped entry point, as a script would pipe to it.
  const child = await runChild(['hash-password'], 's3cret from a pipe\n');
  t.equal(child.code, 0, child.stderr);
  const lines = child.stdout.split('\n').filter(Boolean);
  t.equal(lines.length, 1, 'one line on stdout');
  t.ok(verifyPassword('s3cret from a pipe', lines[0]), 'HASH=$(switchboard hash-password < file) captures the hash');
  t.notMatch(child.stdout + child.stderr, /s3cret/, 'the password is not echoed');
});

for (const kind of databaseKinds()) {
  t.test(`anope token create and list, for scripts (${kind})`, async (t) => {
    const db = await createTestDatabase(kind);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-cli-scripts-'));
    t.teardown(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });
    const file = path.join(dir, 'config.json');
    const off = { enabled: false };
    fs.writeFileSync(file, JSON.stringify({ database: { url: db.url }, log: { level: 'silent' }, plugins: { opsdroid: off, redball: off, talk: off, owncast: off, anope: {} } }));
    const env = { SWITCHBOARD_CONFIG: file };

    const bare = await run(['anope', 'token', 'create', '--label', 'ci'], env);
    t.equal(bare.code, 0);
    t.equal(bare.out.length, 1, 'TOKEN=$(…) captures exactly one line');
    t.match(bare.out[0], /^anope_[A-Za-z0-9_-]{32}$/, 'the bare token');
    t.match(bare.err.join('\n'), /^token \d+ created; send it as: Authorization: Bearer <token>$/, 'the sentence on stderr');

    const json = await run(['anope', 'token', 'create', '--label', 'deploy', '--json'], env);
    t.equal(json.out.length, 1);
    const created = JSON.parse(json.out[0]) as { id: number; label: string; token: string };
    t.match(created, { id: Number, label: 'deploy', token: /^anope_[A-Za-z0-9_-]{32}$/ });
    t.not(created.token, bare.out[0]);

    const list = await run(['anope', 'token', 'list', '--json'], env);
    const listed = JSON.parse(list.out.join('\n')) as Array<{ id: number; label: string; createdAt: string }>;
    t.same(listed.map((l) => l.label), ['ci', 'deploy']);
    t.equal(listed[1].id, created.id);
    t.notMatch(list.out.join('\n'), /anope_/, 'never the tokens themselves');
  });

  t.test(`talk bot:install: the secret from standard input, the bot as JSON (${kind})`, async (t) => {
    const db = await createTestDatabase(kind);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-cli-talk-'));
    t.teardown(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });
    const file = path.join(dir, 'config.json');
    const off = { enabled: false };
    fs.writeFileSync(file, JSON.stringify({ database: { url: db.url }, log: { level: 'silent' }, plugins: { opsdroid: off, redball: off, anope: off, owncast: off, talk: {} } }));
    const env = { SWITCHBOARD_CONFIG: file };
    const secret = 'a'.repeat(20) + 'b'.repeat(20) + 'from-stdin';

    const installed = await run(['talk', 'bot:install', 'Piped', '-', 'https://bots.example.net/piped', '--output', 'json'], env, `${secret}\n`);
    t.equal(installed.code, 0, installed.err.join('\n'));
    t.equal(installed.out.length, 1);
    const bot = JSON.parse(installed.out[0]) as Record<string, unknown>;
    t.match(bot, { id: Number, name: 'Piped', url: 'https://bots.example.net/piped', state: 1 });
    t.notMatch(installed.out.join('\n') + installed.err.join('\n'), /from-stdin/, 'the secret is never printed');

    // The secret read from stdin is the one stored: the same secret again is refused (exit 3).
    const again = await run(['talk', 'bot:install', 'Again', secret, 'https://bots.example.net/again'], env);
    t.equal(again.code, 3);
    t.same(again.err, ['Bot with the same secret is already registered']);

    const short = await run(['talk', 'bot:install', 'Short', '-', 'https://bots.example.net/short'], env, 'too short\n');
    t.equal(short.code, 1);
    t.same(short.err, ['The provided secret is too short (min. 40 chars, max. 128 chars)']);

    const plain = await run(['talk', 'bot:install', 'Plain', 'c'.repeat(40), 'https://bots.example.net/plain'], env);
    t.equal(plain.out[0], 'Bot installed', 'plain output as occ prints it');
    t.match(plain.out[1], /^ID: \d+$/);
    const bad = await run(['talk', 'bot:install', 'Fmt', 'd'.repeat(40), 'https://bots.example.net/fmt', '--output', 'yaml'], env);
    t.equal(bad.code, 1);
    t.same(bad.err, ["Unknown output format 'yaml' (plain, json, json_pretty)"]);
  });
}
