/**
 * Secrets read from standard input, so that they never appear on a command line (where `ps`
 * and the shell's history would show them): `echo "$PASSWORD" | switchboard hash-password`.
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';

/** The most standard input a secret may take (a secret is short; a file piped by mistake is refused). */
export const MAX_SECRET_INPUT = 64 * 1024;

/** What a command reads a secret from: the prompt is shown only on a terminal. */
export type SecretReader = (prompt: string) => Promise<string>;

/**
 * Reads one secret from `input`. On a terminal: shows `prompt` on `promptTo` and reads one
 * line without echoing it. Otherwise (a pipe, a file): reads to the end and drops one
 * trailing newline. Rejects past {@link MAX_SECRET_INPUT} bytes.
 */
export function readSecret(input: NodeJS.ReadableStream & { isTTY?: boolean }, prompt: string, promptTo: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (input.isTTY) {
    promptTo.write(prompt);
    // readline echoes what is typed to its output: a sink that drops it hides the secret.
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    const rl = readline.createInterface({ input, output: silent, terminal: true });
    return new Promise((resolve) => {
      let line = '';
      rl.once('line', (l) => {
        line = l;
        rl.close();
      });
      rl.once('close', () => {
        promptTo.write('\n');
        resolve(line);
      });
    });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > MAX_SECRET_INPUT) {
        input.off('data', onData);
        input.pause();
        reject(new Error(`standard input holds more than ${MAX_SECRET_INPUT} bytes; a secret is expected`));
        return;
      }
      chunks.push(buf);
    };
    input.on('data', onData);
    input.once('error', reject);
    input.once('end', () => resolve(Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')));
  });
}

/** The process's standard input as a {@link SecretReader}. */
export const stdinSecret: SecretReader = (prompt) => readSecret(process.stdin, prompt);
