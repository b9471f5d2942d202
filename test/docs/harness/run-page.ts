/**
 * Runs the shell and JavaScript blocks of one Markdown page, in page order, in one bash
 * process, as a reader would type them into one terminal: variables set by one block
 * (`KEY=$(…)`) are seen by the next. Nothing is run from the repository's directory: the page
 * gets a fresh working directory that looks like a project with the package installed
 * (`node_modules/switchboard` and the package's dependencies, and `node_modules/.bin/switchboard`,
 * so `npx switchboard …` runs the package's bin; the PATH is a user shell's, without any
 * `node_modules/.bin`, so a bare `switchboard …` fails as it would for the user), and a
 * fresh database.
 *
 * What the harness provides, and the only ways in which a block is not run byte for byte:
 *
 * - `npm start` runs the command of package.json's `start` script (read at test time:
 *   `node dist/bundle/standalone.cjs`, the path made absolute) in a child process whose
 *   working directory is the page's directory, and returns once `/readyz` answers 200,
 *   printing what the server wrote to standard error so far (its first-start secrets). A
 *   trailing `&` is dropped, since the harness already runs the server in the background and
 *   the next command should find it ready, as it would when typed by hand.
 *   `npm install` and `npm ci` are not repeated (the suite runs in an installed checkout).
 * - The documented addresses `127.0.0.1:8080` and `localhost:8080` (the server's default
 *   port) and `127.0.0.1:9000` (the example bot or webhook receiver, which calls
 *   `.listen(9000`, rewritten too) are rewritten to ports
 *   that are free when the test runs: test files run in parallel and other programs use
 *   this machine, so a fixed port is not safe. Nothing else in a block changes.
 * - `curl` reads a `.curlrc` with `fail-with-body` and `silent`: an HTTP error status fails
 *   the command (its body is still printed), and there is no progress meter.
 * - A command followed by `# → text` (on its line, or on lines of their own right after it)
 *   has its standard output captured and compared (expected.ts); that comparison, not its
 *   exit status, decides whether it did what the page says (the page may show an error).
 * - Every block runs under `set -eo pipefail`: the first failing command fails the block.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Block } from './markdown.js';

/** The repository (the package under test). */
export const REPO = path.resolve(import.meta.dirname, '../../..');

/** A command's expected output and what it printed. */
export interface CommandCheck {
  /** 1-based line in the page. */
  line: number;
  /** The expected text (after `# →`). */
  expected: string;
  /** What the command printed on standard output (undefined when it did not run). */
  actual?: string;
  /** What it printed on standard error. */
  stderr: string;
  /** Its exit status. */
  exitCode: number;
}

/** What happened to one runnable block. */
export interface BlockRun {
  block: Block;
  /** `ok`, `failed` (non-zero exit), or `not reached` (an earlier block failed). */
  status: 'ok' | 'failed' | 'not reached';
  /** Standard output and error of the block. */
  stdout: string;
  stderr: string;
  /** Its `# →` checks. */
  commands: CommandCheck[];
  /** How long it took, when it finished. */
  ms?: number;
}

/** The result of running a page once. */
export interface PageRun {
  runs: BlockRun[];
  /** The exit status of bash (0 when every block passed). */
  exitCode: number | string;
  /** What the server printed (standard output is its log). */
  serverOut: string;
  serverErr: string;
  /** Whether the page started the server. */
  startedServer: boolean;
}

/** Options of one run. */
export interface RunOptions {
  /** The blocks of the page. */
  blocks: Block[];
  /** The page's fresh working directory. */
  cwd: string;
  /** Extra environment (e.g. `DATABASE_URL` for PostgreSQL). */
  env?: NodeJS.ProcessEnv;
  /** Give up after this long (the whole page). */
  timeoutMs?: number;
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The documented addresses, rewritten to the ports of this run. */
export function rewriteAddresses(text: string, ports: { server: number; aux: number }): string {
  return text
    .replace(/\b(127\.0\.0\.1|localhost):8080\b/g, `$1:${ports.server}`)
    .replace(/\b127\.0\.0\.1:9000\b/g, `127.0.0.1:${ports.aux}`)
    .replace(/\.listen\(9000\b/g, `.listen(${ports.aux}`);
}

/** Makes `dir` look like a project that installed the package: node_modules and the bin. */
export function prepareProjectDir(dir: string): void {
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, '.bin'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(REPO, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    fs.symlinkSync(path.join(REPO, 'node_modules', entry), path.join(modules, entry));
  }
  fs.symlinkSync(REPO, path.join(modules, 'switchboard'));
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  for (const [name, file] of Object.entries(pkg.bin)) {
    fs.symlinkSync(path.join(REPO, file), path.join(modules, '.bin', name));
  }
}

/** The command of package.json's `start` script, with its file arguments made absolute. */
export function startCommand(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts.start.trim().split(/\s+/);
  return words.map((w) => (fs.existsSync(path.join(REPO, w)) ? path.join(REPO, w) : w));
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const PRELUDE = String.raw`
npm() {
  case "${'$'}{1:-}" in
    start) __docs_npm_start ;;
    install|ci) echo "docs tests: 'npm $1' is not repeated (the tests run in an installed checkout)" >&2 ;;
    *) command npm "$@" ;;
  esac
}
__docs_npm_start() {
  if [ -s "$DOCS_DIR/server.pid" ] && kill -0 "$(cat "$DOCS_DIR/server.pid")" 2>/dev/null; then
    echo "docs tests: the server is already running" >&2; return 1
  fi
  "${'$'}{DOCS_START[@]}" >> "$DOCS_DIR/server.out" 2>> "$DOCS_DIR/server.err" &
  local pid=$!
  echo "$pid" > "$DOCS_DIR/server.pid"
  local i
  for i in $(seq 1 900); do
    if command curl -q -s -o /dev/null --fail "http://127.0.0.1:$PORT/readyz"; then cat "$DOCS_DIR/server.err" >&2; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$DOCS_DIR/server.err" >&2; echo "docs tests: the server exited" >&2; return 1; fi
    sleep 0.1
  done
  echo "docs tests: the server did not become ready" >&2; return 1
}
`;

const ARROW_ONLY = /^\s*#\s*→\s?(.*)$/;
const ARROW_AFTER = /^(.*\S)\s+#\s*→\s?(.*)$/;
const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

/** A shell block with its `# →` commands wrapped so their output is kept; `npm start &` made foreground. */
export function instrumentShell(block: Block, id: string, outDir: string): { script: string; commands: Array<{ line: number; expected: string; file: string }> } {
  const lines = block.text.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  const commands: Array<{ line: number; expected: string; file: string }> = [];
  let heredoc: string | undefined;
  let last: { expected: string[]; index: number } | undefined;
  const wrap = (code: string[], line: number, expected: string) => {
    const file = path.join(outDir, `${id}.c${commands.length}`);
    commands.push({ line, expected: '', file });
    // A command whose output the page shows is checked by that output, not by its exit status
    // (an answer the page documents may be an HTTP error, which makes curl exit 22).
    out.push(`{ ${code.join('\n')}\n} > ${quote(file)} 2> ${quote(`${file}.err`)} || echo "$?" > ${quote(`${file}.rc`)}; cat ${quote(file)}; cat ${quote(`${file}.err`)} >&2`);
    last = { expected: [expected], index: commands.length - 1 };
  };
  lines.forEach((raw, n) => {
    const lineNo = block.line + 1 + n;
    if (heredoc) {
      out.push(raw);
      if (raw === heredoc) heredoc = undefined;
      return;
    }
    const only = ARROW_ONLY.exec(raw);
    if (only) {
      if (last) last.expected.push(only[1]);
      else {
        // Expected lines right after a command without an arrow of its own: capture that command.
        let start = out.length - 1;
        while (start > 0 && out[start - 1].endsWith('\\')) start--;
        if (start < 0 || out.length === 0) throw new Error(`line ${lineNo}: "# →" with no command before it`);
        const code = out.splice(start);
        wrap(code, lineNo - 1, only[1]);
      }
      commands[last!.index].expected = last!.expected.join('\n');
      return;
    }
    last = undefined;
    const after = ARROW_AFTER.exec(raw);
    if (after) {
      let start = out.length;
      while (start > 0 && out[start - 1].endsWith('\\')) start--;
      const code = [...out.splice(start), after[1]];
      wrap(code, lineNo, after[2]);
      commands[last!.index].expected = last!.expected.join('\n');
      return;
    }
    const doc = HEREDOC.exec(raw);
    if (doc) heredoc = doc[2];
    out.push(raw.replace(/^(\s*npm\s+start)\s*&\s*(#.*)?$/, '$1 $2').trimEnd());
  });
  return { script: `${out.join('\n')}\n`, commands };
}

/** Runs the shell and js blocks of a page in one bash. */
export async function runPage(options: RunOptions): Promise<PageRun> {
  const { blocks, cwd } = options;
  const dir = path.join(cwd, '.docs-test');
  fs.mkdirSync(path.join(dir, 'blocks'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.curlrc'), 'fail-with-body\nsilent\nshow-error\n');
  const ports = { server: await freePort(), aux: await freePort() };
  const runnable = blocks.filter((b) => (b.kind === 'shell' || b.kind === 'js') && !b.marked);
  const checks = new Map<Block, Array<{ line: number; expected: string; file: string }>>();
  const parts = [
    'set -eo pipefail',
    // Standard input is a pipe from the test, which never writes to it: when the test process
    // ends, even killed, the pipe closes and this watchdog stops the whole process group (the
    // server, a bot), so nothing outlives the test. The blocks' own standard input is empty.
    'exec 3<&0 0</dev/null',
    '( while read -r _; do :; done <&3; kill -TERM 0 ) &',
    `DOCS_START=(${startCommand().map(quote).join(' ')})`,
    PRELUDE,
  ];
  runnable.forEach((block, i) => {
    const id = `b${i}`;
    const text = rewriteAddresses(block.text, ports);
    let body: string;
    if (block.kind === 'shell') {
      const instrumented = instrumentShell({ ...block, text }, id, dir);
      checks.set(block, instrumented.commands);
      body = instrumented.script;
    } else {
      const file = path.join(dir, 'blocks', `${id}.mjs`);
      fs.writeFileSync(file, text);
      body = block.file
        ? `mkdir -p "$(dirname ${quote(block.file)})" && cp ${quote(file)} ${quote(block.file)}\n`
        : `timeout 60 node ${quote(file)}\n`;
    }
    parts.push(
      `echo ${id} > "$DOCS_DIR/reached"; date +%s%3N > "$DOCS_DIR/${id}.start"`,
      `{\n${body}} > "$DOCS_DIR/${id}.out" 2> "$DOCS_DIR/${id}.err"`,
      `echo ${id} >> "$DOCS_DIR/done"; date +%s%3N > "$DOCS_DIR/${id}.end"`,
    );
  });
  const scriptFile = path.join(dir, 'page.sh');
  fs.writeFileSync(scriptFile, `${parts.join('\n')}\n`);

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // The tests' own settings stay out: the page sees the environment of a user's shell.
    if (/^(TAP|NODE_OPTIONS$|SWITCHBOARD_CONFIG$|DATABASE_URL$|PORT$|HOST$|TS_NODE)/.test(k)) continue;
    env[k] = v;
  }
  Object.assign(env, {
    // A user's shell has no node_modules/.bin on its PATH (npm adds them for its scripts, so
    // `npm test` would): commands a page runs bare must be ones the user has, the package's
    // own only through `npx`.
    PATH: (process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((dir) => !dir.split(path.sep).includes('node_modules'))
      .join(path.delimiter),
    CURL_HOME: dir,
    DOCS_DIR: dir,
    PORT: String(ports.server),
    ...options.env,
  });
  const proc = spawn('bash', [scriptFile], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => (stdout += String(c)));
  proc.stderr.on('data', (c) => (stderr += String(c)));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const timeout = setTimeout(() => killGroup(proc.pid!, 'SIGKILL'), options.timeoutMs ?? 150_000);
  const exitCode = await exited;
  clearTimeout(timeout);
  // The server and anything else the page left running in the background belong to bash's
  // process group: stop them (gracefully first).
  await stopGroup(proc.pid!);
  proc.stdin.end();

  const read = (name: string) => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), 'utf8') : '');
  const done = new Set(read('done').split('\n').filter(Boolean));
  const reached = read('reached').trim();
  const runs: BlockRun[] = runnable.map((block, i) => {
    const id = `b${i}`;
    const status = done.has(id) ? 'ok' : id === reached ? 'failed' : 'not reached';
    const commands = (checks.get(block) ?? []).map((c) => ({
      line: c.line,
      expected: rewriteAddresses(c.expected, ports),
      actual: fs.existsSync(c.file) ? fs.readFileSync(c.file, 'utf8') : undefined,
      stderr: fs.existsSync(`${c.file}.err`) ? fs.readFileSync(`${c.file}.err`, 'utf8') : '',
      exitCode: fs.existsSync(`${c.file}.rc`) ? Number(fs.readFileSync(`${c.file}.rc`, 'utf8')) : 0,
    }));
    const ms = Number(read(`${id}.end`)) - Number(read(`${id}.start`));
    return { block, status, stdout: read(`${id}.out`), stderr: read(`${id}.err`) + (status === 'failed' ? stderr : ''), commands, ms: ms >= 0 ? ms : undefined };
  });
  return { runs, exitCode, serverOut: read('server.out'), serverErr: read('server.err'), startedServer: read('server.pid') !== '' };
}

function killGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

async function stopGroup(pgid: number): Promise<void> {
  if (!killGroup(pgid, 'SIGTERM')) return;
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!killGroup(pgid, 0)) return;
  }
  killGroup(pgid, 'SIGKILL');
}
