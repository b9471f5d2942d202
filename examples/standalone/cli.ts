/**
 * The `switchboard` command: `start`, `migrate`, `openapi`, `hash-password`, `outbox`, and every
 * bundled plugin's own subcommands (`switchboard <plugin> …`). Built on commander.
 */
import { Command } from 'commander';
import { addOutboxCommands, addPluginCommands, hashPassword, Kernel, stdinSecret, type CliOutput, type SecretReader } from '../../src/index.js';
import { createStandalone, enabledPlugins, VERSION } from './app.js';
import { loadStandaloneConfig } from './config.js';
import { usersIdentity } from './identity.js';
import { runStandalone } from './run.js';
import { bundledPlugins } from './plugins.js';

/** Options of {@link buildCli}, for tests. */
export interface CliOptions {
  /** Where commands print. */
  output?: CliOutput;
  /** Receives exit codes. */
  setExitCode?(code: number): void;
  /** Environment (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Where secrets are read from (default standard input). */
  readSecret?: SecretReader;
}

/** Builds the `switchboard` program. The config file is read when a command runs. */
export function buildCli(argv: readonly string[] = process.argv, options: CliOptions = {}): Command {
  const env = options.env ?? process.env;
  const out = options.output?.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const err = options.output?.err ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const readSecret = options.readSecret ?? stdinSecret;
  const setExitCode = options.setExitCode ?? ((code: number) => void (process.exitCode = code));
  const program = new Command('switchboard').version(VERSION).description('Wire-compatible REST API families on one Express server.');
  program.option('-c, --config <file>', 'config file (YAML or JSON); default $SWITCHBOARD_CONFIG or ./switchboard.config.yaml');
  const configFile = () => (program.opts().config as string | undefined) ?? findConfigOption(argv);
  const cliKernel = () => {
    const { config } = loadStandaloneConfig(env, configFile());
    return new Kernel({
      database: config.database.url,
      logger: { level: 'warn', destination: process.stderr },
      plugins: enabledPlugins(config, bundledPlugins),
      identity: usersIdentity(config.users),
      outbox: config.webhooks,
    });
  };

  program.command('start').description('run the standalone server (what `npm start` runs)').action(() => runStandalone(configFile()));
  program
    .command('migrate')
    .description('run every enabled plugin\'s pending migrations and exit')
    .action(async () => {
      const kernel = cliKernel();
      await kernel.prepare('cli');
      await kernel.stop();
      out('migrations are up to date');
    });
  program
    .command('openapi')
    .description('print the merged OpenAPI 3.1 document')
    .action(async () => {
      const { config } = loadStandaloneConfig(env, configFile());
      const standalone = createStandalone(config, { logger: { level: 'warn', destination: process.stderr } });
      await standalone.kernel.prepare('cli');
      out(JSON.stringify(standalone.kernel.openapi({ title: 'Switchboard' }), null, 2));
      await standalone.kernel.stop();
    });
  program
    .command('hash-password [password]')
    .description('print a scrypt hash to use as a user password in the config file; without an argument the password is read from standard input (so it shows neither in `ps` nor in the shell history)')
    .action(async (given?: string) => {
      const password = given ?? (await readSecret('Password: '));
      if (password === '') {
        err('switchboard: no password given (pass it on standard input, e.g. `switchboard hash-password < file`)');
        setExitCode(1);
        return;
      }
      out(hashPassword(password));
    });

  addOutboxCommands(program, { createKernel: cliKernel, output: options.output, setExitCode: options.setExitCode });

  // Plugin subcommands exist for every bundled plugin the config does not disable; the
  // config is only read when one runs, so `--help` works without a config file.
  addPluginCommands(program, { plugins: bundledPlugins, createKernel: cliKernel, output: options.output, setExitCode: options.setExitCode, readSecret });
  return program;
}

/** Finds `-c FILE` / `--config FILE` in argv before commander has parsed it. */
function findConfigOption(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '-c' || argv[i] === '--config') && argv[i + 1]) return argv[i + 1];
    if (argv[i].startsWith('--config=')) return argv[i].slice('--config='.length);
  }
  return undefined;
}

