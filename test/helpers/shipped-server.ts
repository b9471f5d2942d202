/**
 * The server as `npm start` starts it, for the end-to-end tests: the `start` script of
 * package.json (read when the test runs, so that a changed script is followed), run by a
 * shell in a fresh working directory that holds only the config file and links to what the
 * script may name (`dist`, `node_modules`, `package.json`); and the `switchboard` command
 * at the path package.json's `bin` gives it, run in the same directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { captureChild } from '../../src/testing/log-capture.js';
import { packageJson, ROOT } from './build.js';

/** A finished command. */
export interface CommandResult {
  /** The exit code (or the signal's name). */
  code: number | string;
  stdout: string;
  stderr: string;
}

/** A running shipped server. */
export interface ShippedServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The server's working directory (fresh; holds `switchboard.config.yaml`). */
  cwd: string;
  /** What the server printed so far. */
  stdout(): string;
  stderr(): string;
  /** Runs `switchboard <args>` (package.json's `bin`) in the server's working directory. */
  cli(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<CommandResult>;
  /** SIGTERM; resolves with the exit code once the process is gone, and removes the directory. */
  stop(): Promise<number | string>;
}

/** The environment of the server and the CLI: the test's, minus what would override the config. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // The config file in the working directory is what configures the server; the test
  // runner's loader options are not what a user's `npm start` has.
  for (const key of ['SWITCHBOARD_CONFIG', 'PORT', 'HOST', 'DATABASE_URL', 'NODE_OPTIONS', 'TS_NODE_PROJECT']) delete env[key];
  return env;
}

function collect(proc: ChildProcess) {
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += String(c)));
  proc.stderr!.on('data', (c: Buffer) => (err += String(c)));
  // 'close': the process has exited and its output is read to the end.
  const exited = new Promise<number | string>((resolve) => proc.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return { out: () => out, err: () => err, exited };
}

/**
 * Starts the server with `config` (written as `switchboard.config.yaml` in a fresh
 * directory, where the server finds it by itself); resolves once it prints where it
 * listens. Use `server.port: 0` for a free port.
 */
export async function startShipped(config: Record<string, unknown>, options: { label?: string; timeoutMs?: number } = {}): Promise<ShippedServer> {
  const pkg = packageJson();
  const script = pkg.scripts.start;
  if (!script) throw new Error('package.json has no start script');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-e2e-'));
  for (const name of ['dist', 'node_modules', 'package.json']) fs.symlinkSync(path.join(ROOT, name), path.join(cwd, name));
  const configFile = path.join(cwd, 'switchboard.config.yaml');
  fs.writeFileSync(configFile, YAML.stringify(config));
  const env = childEnv();
  // The script as npm runs it: by a shell, with node_modules/.bin on the PATH.
  const proc = spawn('sh', ['-c', `exec ${script}`], {
    cwd,
    env: { ...env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const io = collect(proc);
  // A test process that ends (or is ended by tap's timeout) takes its server with it.
  const orphan = () => void proc.kill('SIGKILL');
  process.once('exit', orphan);
  void io.exited.then(() => process.off('exit', orphan));
  // The server's log (standard output) and its config's secrets go to the secrets check.
  const capture = captureChild({ ...process.env, SWITCHBOARD_CONFIG: configFile }, options.label ?? 'e2e');
  if (capture) {
    proc.stdout!.on('data', (c: Buffer) => capture.write(c));
    proc.once('close', () => capture.close());
  }
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the server did not listen within ${options.timeoutMs ?? 60_000} ms`)), options.timeoutMs ?? 60_000);
    const check = () => {
      const m = /Switchboard listening on (http:\/\/[^\s]+)/.exec(io.out());
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve(m[1]);
      }
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      void io.exited.then(() => fs.rmSync(cwd, { recursive: true, force: true }));
      reject(new Error(`${err.message}\nstdout: ${io.out().slice(-2000)}\nstderr: ${io.err().slice(-2000)}`));
    };
    proc.stdout!.on('data', check);
    void io.exited.then((code) => fail(new Error(`the server exited (${code}) before it listened`)));
  });
  const binFile = path.join(ROOT, pkg.bin.switchboard);
  return {
    url,
    cwd,
    stdout: io.out,
    stderr: io.err,
    cli: (args, cliOptions = {}) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [binFile, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
        const cio = collect(child);
        child.stdin!.end(cliOptions.input ?? '');
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`switchboard ${args[0]} … did not finish within ${cliOptions.timeoutMs ?? 60_000} ms; stderr: ${cio.err()}`));
        }, cliOptions.timeoutMs ?? 60_000);
        void cio.exited.then((code) => {
          clearTimeout(timer);
          resolve({ code, stdout: cio.out(), stderr: cio.err() });
        });
      }),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const code = await io.exited;
      fs.rmSync(cwd, { recursive: true, force: true });
      return code;
    },
  };
}
