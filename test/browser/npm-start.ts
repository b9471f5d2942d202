/**
 * The standalone server started the way `npm start` starts it: package.json's `start` command
 * (read at test time) in a child process, from the built bundle. `npm test` builds first
 * (`pretest`); a browser test run on its own needs `npm run build` before.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmStartArgs } from '../helpers/start-script.js';

/** The project's root directory. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running server. */
export interface NpmStart {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What the server wrote on standard error so far. */
  stderr(): string;
  /** Stops it (SIGTERM) and waits for its exit; removes its working directory. */
  stop(): Promise<void>;
}

/**
 * Runs `npm start`'s command in a scratch working directory, on a free port, with the given
 * database, and resolves once it prints the address it listens on.
 */
export async function npmStart(databaseUrl: string, timeoutMs = 60_000): Promise<NpmStart> {
  const args = npmStartArgs(ROOT);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-npm-start-'));
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, SWITCHBOARD_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += String(c)));
  child.stderr.on('data', (c) => (err += String(c)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(cwd, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not listen within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)), timeoutMs);
      const check = () => {
        const m = /Switchboard listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', check);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`npm start exited before listening; stdout: ${out}; stderr: ${err}`));
      });
    });
    return { url, stderr: () => err, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
