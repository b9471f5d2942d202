/**
 * `switchboard talk bot:*`: the original's `occ talk:bot:*` commands, with their arguments,
 * messages and exit codes. Secrets are never printed. For scripts: `bot:install` takes the
 * secret from standard input when it is given as `-` (so it shows neither in `ps` nor in the
 * shell history), and prints the bot as JSON with `--output json`.
 */
import type { Command } from 'commander';
import type { CliSession, PluginContext } from '../../src/index.js';
import { BotAdmin, TalkBotError } from './bot-admin.js';
import type { TalkConfig } from './config.js';
import { featureFlagsToLabels } from './constants.js';
import type { TalkBotWithDetails } from './formats.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `(int)` as PHP casts a command-line argument. */
function phpInt(value: string | undefined): number {
  const n = Number.parseInt(String(value ?? ''), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** A table as Symfony's console draws it (occ's `plain` output). */
export function renderTable(rows: ReadonlyArray<Record<string, unknown>>): string[] {
  if (rows.length === 0) return [];
  const headers = Object.keys(rows[0]);
  const cells = rows.map((r) => headers.map((h) => String(r[h] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const row = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line, row(headers), line, ...cells.map(row), line];
}

function listRow(bot: TalkBotWithDetails, verbose: boolean): Record<string, unknown> {
  const row: Record<string, unknown> = { id: bot.id, name: bot.name, description: bot.description };
  if (verbose) Object.assign(row, { url: bot.url, url_hash: bot.url_hash });
  row.error_count = bot.error_count;
  if (verbose) Object.assign(row, { last_error_date: bot.last_error_date, last_error_message: bot.last_error_message });
  row.state = bot.state;
  row.features = featureFlagsToLabels(bot.features);
  return row;
}

/** Adds the `bot:*` subcommands to `switchboard talk`. */
export function talkCli(command: Command, session: CliSession<TalkConfig>): void {
  const admin = (ctx: PluginContext<TalkConfig>) => ctx.container.resolve(BotAdmin);
  const failWith = (err: unknown): number => {
    if (err instanceof TalkBotError) {
      session.err(err.message);
      return err.exitCode;
    }
    throw err;
  };

  command
    .command('bot:install')
    .description('Install a new bot on the server')
    .argument('<name>', 'The name under which the messages will be posted (min. 1 char, max. 64 chars)')
    .argument('<secret>', 'Secret used to validate API calls (min. 40 chars, max. 128 chars); `-` reads it from standard input')
    .argument('<url>', 'Webhook endpoint to post messages to (max. 4000 chars)')
    .argument('[description]', 'Optional description shown in the admin settings (max. 4000 chars)')
    .option('--no-setup', 'Prevent moderators from setting up the bot in a conversation')
    .option('-f, --feature <feature>', 'webhook, response, event, reaction or none (repeatable)', collect, [] as string[])
    .option('--output <format>', 'plain, json or json_pretty (the installed bot, as `bot:list -v` shows it)', 'plain')
    .action((name: string, secretArg: string, url: string, description: string | undefined, opts: { setup: boolean; feature: string[]; output: string }) =>
      session.run(async (ctx) => {
        if (!['plain', 'json', 'json_pretty'].includes(opts.output)) {
          session.err(`Unknown output format '${opts.output}' (plain, json, json_pretty)`);
          return 1;
        }
        const secret = secretArg === '-' ? await session.readSecret('Secret: ') : secretArg;
        try {
          const bot = await admin(ctx).install({ name, secret, url, description, noSetup: opts.setup === false, features: opts.feature });
          if (opts.output === 'plain') {
            session.out('Bot installed');
            session.out(`ID: ${bot.id}`);
          } else {
            const row = listRow(bot, true);
            session.out(opts.output === 'json' ? JSON.stringify(row) : JSON.stringify(row, null, 4));
          }
          return 0;
        } catch (err) {
          return failWith(err);
        }
      }),
    );

  command
    .command('bot:uninstall')
    .description('Uninstall a bot from the server')
    .argument('[id]', 'The ID of the bot')
    .option('--url <url>', 'The URL of the bot (required when no ID is given, ignored otherwise)')
    .action((id: string | undefined, opts: { url?: string }) =>
      session.run(async (ctx) => {
        try {
          await admin(ctx).uninstall({ id: phpInt(id) || undefined, url: opts.url });
          session.out('Bot uninstalled');
          return 0;
        } catch (err) {
          return failWith(err);
        }
      }),
    );

  command
    .command('bot:list')
    .description('List all installed bots of the server or a conversation')
    .argument('[token]', 'Conversation token to limit the bot list for')
    .option('-v, --verbose', 'Also show url, url_hash and the last error')
    .option('--output <format>', 'plain, json or json_pretty', 'plain')
    .action((token: string | undefined, opts: { verbose?: boolean; output: string }) =>
      session.run(async (ctx) => {
        if (!['plain', 'json', 'json_pretty'].includes(opts.output)) {
          session.err(`Unknown output format '${opts.output}' (plain, json, json_pretty)`);
          return 1;
        }
        const rows = (await admin(ctx).list(token || undefined)).map((b) => listRow(b, opts.verbose === true));
        if (opts.output === 'json') session.out(JSON.stringify(rows));
        else if (opts.output === 'json_pretty') session.out(JSON.stringify(rows, null, 4));
        else for (const line of renderTable(rows)) session.out(line);
        return 0;
      }),
    );

  command
    .command('bot:state')
    .description('Change the state or feature list for a bot')
    .argument('<bot-id>', 'Bot ID to change the state for')
    .argument('<state>', 'New state for the bot (0 = disabled, 1 = enabled, 2 = no setup via GUI)')
    .option('-f, --feature <feature>', 'webhook, response, event, reaction or none (repeatable)', collect, [] as string[])
    .action((botId: string, state: string, opts: { feature: string[] }) =>
      session.run(async (ctx) => {
        try {
          const bot = await admin(ctx).setState(phpInt(botId), /^\s*-?\d+\s*$/.test(state) ? phpInt(state) : -1, opts.feature);
          session.out(opts.feature.length > 0 ? `Bot state set to ${bot.state} with features: ${featureFlagsToLabels(bot.features)}` : `Bot state set to ${bot.state}`);
          return 0;
        } catch (err) {
          return failWith(err);
        }
      }),
    );

  command
    .command('bot:setup')
    .description('Add a bot to a conversation')
    .argument('<bot-id>', 'The ID of the bot to set up in a conversation')
    .argument('[token...]', 'Conversation tokens to set the bot up for')
    .action((botId: string, tokens: string[]) =>
      session.run(async (ctx) => {
        try {
          const result = await admin(ctx).setup(phpInt(botId), tokens ?? []);
          for (const line of result.lines) (line.ok ? session.out : session.err)(line.text);
          return result.exitCode;
        } catch (err) {
          return failWith(err);
        }
      }),
    );

  command
    .command('bot:remove')
    .description('Remove a bot from a conversation')
    .argument('<bot-id>', 'The ID of the bot to remove in a conversation')
    .argument('[token...]', 'Conversation tokens to remove bot up for')
    .action((botId: string, tokens: string[]) =>
      session.run(async (ctx) => {
        const result = await admin(ctx).remove(phpInt(botId), tokens ?? []);
        for (const line of result.lines) (line.ok ? session.out : session.err)(line.text);
        return result.exitCode;
      }),
    );
}
