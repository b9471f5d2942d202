/**
 * A scratch host application that installed the packed package, as a user's would: `npm
 * pack` of the project, then `npm install <tarball> express @types/express typescript` in an
 * empty ES-module project. Nothing of the project's own node_modules is visible there.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageJson, ROOT } from '../helpers/build.js';

/** A finished command. */
export interface Run {
  code: number | string;
  stdout: string;
  stderr: string;
  /** Milliseconds it took. */
  ms: number;
}

/** The environment for npm and the host's programs: the test's, without npm's own settings of a surrounding `npm test`. */
export function hostEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !['NODE_OPTIONS', 'TS_NODE_PROJECT', 'DATABASE_URL', 'SWITCHBOARD_CONFIG', 'PORT'].includes(k)) env[k] = v;
  // The SQLite driver builds against the system's libsqlite3 when its headers are there (as CI does).
  if (fs.existsSync('/usr/include/sqlite3.h') && !env.GYP_DEFINES) env.GYP_DEFINES = 'sqlite=/usr';
  return { ...env, ...extra };
}

/** Runs a command to its end. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  const started = Date.now();
  const limit = options.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? hostEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += String(c)));
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(command)} ${args.join(' ')} took more than ${limit} ms\n${stderr.slice(-2000)}`));
    }, limit);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The host: its directory, and how it was made. */
export interface Host {
  dir: string;
  /** The tarball `npm pack` made. */
  tarball: string;
  /** `npm pack`, `npm install`. */
  steps: Run[];
}

/** The version range the project itself uses of a package (so the host's compiler is one the project supports). */
function projectVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** Packs the project into `dir` and installs the tarball into `dir/host`. Throws with npm's output when a step fails. */
export async function makeHost(dir: string): Promise<Host> {
  // dist/ is already built (ensureBuilt); --ignore-scripts keeps `npm pack` from running
  // `prepare`, a second full build.
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr.slice(-3000)}`);
  const [{ filename }] = JSON.parse(pack.stdout) as Array<{ filename: string }>;
  const tarball = path.join(dir, filename);
  const host = path.join(dir, 'host');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, 'package.json'), JSON.stringify({ name: 'host', version: '1.0.0', private: true, type: 'module' }, null, 2));
  const install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, 'express', '@types/express', `typescript@${projectVersion('typescript')}`],
    { cwd: host },
  );
  if (install.code !== 0) throw new Error(`npm install in the host failed:\n${install.stderr.slice(-3000)}`);
  if (!fs.existsSync(path.join(host, 'node_modules', packageJson().name, 'package.json'))) throw new Error('the package is not in the host');
  return { dir: host, tarball, steps: [pack, install] };
}

/** The ```ts block under a README heading, verbatim. */
export function readmeBlock(heading: string): string {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README.md has no section "## ${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end === -1 ? undefined : end);
  const m = /\n```ts\n([\s\S]*?)\n```\n/.exec(section);
  if (!m) throw new Error(`README.md's "${heading}" has no \`\`\`ts block`);
  return `${m[1]}\n`;
}
