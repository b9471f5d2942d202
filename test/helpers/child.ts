/** Runs the standalone server (TypeScript source) as a child process, as `npm start` would. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { captureChild } from '../../src/testing/log-capture.js';

/** The node arguments that let a child run the project's .ts files the way tap does. */
export function tsNodeArgs(): string[] {
  return process.execArgv.filter((a) => a.includes('@tapjs/typescript') || a.startsWith('--enable-source-maps') || a.startsWith('--no-warnings'));
}

/** A running child and what it printed. */
export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves when stdout matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Spawns a project .ts file with the TypeScript loader. */
export function spawnTs(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  const proc = spawn(process.execPath, [...tsNodeArgs(), path.resolve(file), ...args], {
    cwd: options.cwd,
    // The loader looks for tsconfig.json from the working directory; a child running in a
    // temporary directory must be pointed at the project's (decorator metadata lives there).
    env: { ...process.env, TS_NODE_PROJECT: path.resolve('tsconfig.json'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  // With SWB_TEST_LOG_DIR set, what the child logs (its standard output) and the secrets of
  // its config are kept for the secrets-hygiene check after the test run.
  const capture = captureChild({ ...process.env, ...options.env });
  if (capture) proc.once('close', () => capture.close());
  proc.stdout!.on('data', (c) => {
    out += String(c);
    capture?.write(c as Buffer);
  });
  proc.stderr!.on('data', (c) => (err += String(c)));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            clearInterval(timer);
            clearTimeout(deadline);
            resolve(m);
          }
        };
        const timer = setInterval(check, 20);
        const deadline = setTimeout(() => {
          clearInterval(timer);
          reject(new Error(`timed out waiting for ${re}; stdout: ${out}; stderr: ${err}`));
        }, timeoutMs);
        void exited.then(() => setTimeout(() => { check(); clearInterval(timer); clearTimeout(deadline); reject(new Error(`exited before ${re}; stdout: ${out}; stderr: ${err}`)); }, 50));
      }),
  };
}
