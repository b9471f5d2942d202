/** Runs the `switchboard` CLI in-process for the talk tests (imports every bundled plugin). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCli } from '../../../examples/standalone/cli.js';

/** The outcome of a CLI run. */
export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/** Runs `switchboard …` in-process against a database, with only the talk plugin enabled. */
export function cliRunner(databaseUrl: string, talkConfig: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-talk-cli-'));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      database: { url: databaseUrl },
      log: { level: 'silent' },
      webhooks: { allow: ['127.0.0.0/8'] },
      plugins: { opsdroid: { enabled: false }, redball: { enabled: false }, anope: { enabled: false }, owncast: { enabled: false }, talk: talkConfig },
    }),
  );
  const run = async (...argv: string[]): Promise<CliRun> => {
    const result: CliRun = { code: 0, out: [], err: [] };
    const program = buildCli(['node', 'switchboard', ...argv], {
      output: { out: (l) => void result.out.push(l), err: (l) => void result.err.push(l) },
      setExitCode: (c) => void (result.code = c),
      env: { SWITCHBOARD_CONFIG: file },
    });
    program.exitOverride();
    await program.parseAsync(argv, { from: 'user' });
    return result;
  };
  return { run, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

