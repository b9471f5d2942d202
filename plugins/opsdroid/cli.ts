/**
 * `switchboard opsdroid …`: look at the bot's modules and statistics without starting it,
 * and forget configuration changes made through the command center.
 */
import type { Command } from 'commander';
import type { CliSession } from '../../src/index.js';
import type { OpsdroidConfig } from './config.js';
import { ModuleConfigStore } from './module-config-store.js';
import { MODULE_TYPES, type ModuleType } from './modules.js';
import { OPSDROID_RUNTIME } from './tokens.js';
import { StatsStore } from './stats-store.js';
import type { Opsdroid } from './opsdroid.js';

function moduleType(value: string | undefined, session: CliSession<OpsdroidConfig>): ModuleType | undefined | null {
  if (value === undefined) return undefined;
  if ((MODULE_TYPES as readonly string[]).includes(value)) return value as ModuleType;
  session.err(`unknown module type '${value}' (one of: connectors, skills, databases, parsers)`);
  return null;
}

/** Adds the plugin's subcommands. */
export function opsdroidCli(command: Command, session: CliSession<OpsdroidConfig>): void {
  command
    .command('modules [type]')
    .description('print the modules (connectors, skills, databases, parsers) as the command center shows them')
    .action((typeArg?: string) =>
      session.run(async (ctx) => {
        const type = moduleType(typeArg, session);
        if (type === null) return 2;
        const runtime = ctx.container.resolve<Opsdroid>(OPSDROID_RUNTIME);
        await runtime.load();
        const out = type ? runtime.moduleViews(type) : Object.fromEntries(['connectors', 'skills', 'databases', 'parsers'].map((t) => [t, runtime.moduleViews(t as ModuleType)]));
        session.out(JSON.stringify(out, null, 2));
      }),
    );
  command
    .command('stats')
    .description('print the statistics of /stats/, summed over every instance')
    .action(() =>
      session.run(async (ctx) => {
        const runtime = ctx.container.resolve<Opsdroid>(OPSDROID_RUNTIME);
        await runtime.load();
        session.out(JSON.stringify(runtime.statsBody(await ctx.container.resolve(StatsStore).totals()), null, 2));
      }),
    );
  command
    .command('reset [type] [name]')
    .description('forget command-center changes (of one module, one section, or all): the config file applies again')
    .action((typeArg?: string, name?: string) =>
      session.run(async (ctx) => {
        const type = moduleType(typeArg, session);
        if (type === null) return 2;
        const removed = await ctx.container.resolve(ModuleConfigStore).remove(type, name);
        // Running instances (on PostgreSQL) reload at once.
        if (removed > 0) ctx.events.emit('opsdroid.modules.reset', { instanceId: ctx.instanceId }, { cluster: true });
        session.out(`forgot the changes of ${removed} module${removed === 1 ? '' : 's'}`);
      }),
    );
}
