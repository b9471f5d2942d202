/**
 * CLI support for plugins: every plugin with a `cli` hook gets a namespace of subcommands
 * (`switchboard <plugin-id> <command>`), each run against a kernel prepared in CLI mode
 * (config validated, migrations run, `init` done; nothing served, no `start` hooks).
 * Built on commander.
 */
import type { Command } from 'commander';
import type { Kernel } from './kernel.js';
import { stdinSecret, type SecretReader } from './cli-input.js';
import type { CliSession, PluginContext, PluginDescriptor } from './plugin.js';

/** Where CLI commands write. */
export interface CliOutput {
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
}

/** The process's stdout and stderr. */
export const processOutput: CliOutput = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** Options of {@link addPluginCommands}. */
export interface PluginCommandOptions {
  /** The plugins that may add commands (only enabled ones should be given). */
  plugins: readonly PluginDescriptor<any>[];
  /** Builds the kernel a command runs against (not started). */
  createKernel(): Kernel | Promise<Kernel>;
  /** Where commands print (default the process's stdout/stderr). */
  output?: CliOutput;
  /** Receives the command's exit code (default: sets `process.exitCode`). */
  setExitCode?(code: number): void;
  /** Where commands read secrets from (default the process's standard input). */
  readSecret?: SecretReader;
}

/** Adds `<plugin-id> …` subcommands for every plugin that has a `cli` hook. */
export function addPluginCommands(program: Command, options: PluginCommandOptions): void {
  const output = options.output ?? processOutput;
  const setExitCode = options.setExitCode ?? ((code: number) => void (process.exitCode = code));
  for (const plugin of options.plugins) {
    if (!plugin.cli) continue;
    const command = program.command(plugin.id).description(plugin.description ?? `${plugin.id} commands`);
    const session: CliSession<unknown> = {
      out: output.out,
      err: output.err,
      readSecret: options.readSecret ?? stdinSecret,
      async run(fn) {
        const kernel = await options.createKernel();
        let code = 0;
        try {
          await kernel.prepare('cli');
          const result = await fn(kernel.context(plugin.id) as PluginContext<unknown>);
          code = typeof result === 'number' ? result : 0;
        } finally {
          await kernel.stop();
        }
        setExitCode(code);
      },
    };
    plugin.cli(command, session);
  }
}
