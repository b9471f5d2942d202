/**
 * A second process on the server's SQLite file: runs `switchboard` CLI commands that write
 * (Talk bot installs, redball API keys, Owncast access tokens, anope tokens) one after the
 * other until `durationMs` has passed, then prints a summary line as JSON.
 *
 * Usage: node <loader args> cli-loop.ts <config file> <duration ms>
 */
import { buildCli } from '../../../examples/standalone/cli.js';

const [configFile, durationArg] = process.argv.slice(2);
const durationMs = Number(durationArg);

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const result = { code: 0, out: [] as string[], err: [] as string[] };
  const program = buildCli(['node', 'switchboard', ...argv], {
    output: { out: (l) => void result.out.push(l), err: (l) => void result.err.push(l) },
    setExitCode: (c) => void (result.code = c),
    env: { SWITCHBOARD_CONFIG: configFile },
  });
  program.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    result.code = result.code || 1;
    result.err.push((err as Error).message);
  }
  return result;
}

const commands = (i: number): string[][] => [
  ['talk', 'bot:install', `Loop bot ${i}`, `loop-bot-secret-${i}-`.padEnd(64, 'z'), `http://127.0.0.1:9/loop-${i}`, 'A bot from the CLI loop'],
  ['redball', 'apikey', 'create', '--name', `loop ${i}`],
  ['owncast', 'token', 'create', '--name', `loop ${i}`, '--scope', 'CAN_SEND_MESSAGES'],
  ['anope', 'token', 'create'],
];

const started = Date.now();
let done = 0;
const failures: string[] = [];
process.stdout.write('cli-loop: started\n');
for (let i = 0; Date.now() - started < durationMs; i++) {
  for (const argv of commands(i)) {
    const r = await run(argv);
    done++;
    if (r.code !== 0) failures.push(`${argv.slice(0, 2).join(' ')}: exit ${r.code}: ${r.err.join(' ').slice(0, 300)}`);
  }
}
process.stdout.write(`cli-loop: ${JSON.stringify({ commands: done, failures })}\n`);
