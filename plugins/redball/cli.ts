/**
 * `switchboard redball …`: API key management.
 *
 * - `apikey create [--name <label>] [--json]` prints a new key once, alone on standard output
 *   (`KEY=$(switchboard redball apikey create)` captures exactly the key; the sentence for the
 *   person goes to standard error), or `{"id", "name", "key"}` with `--json`; only its hash
 *   is stored.
 * - `apikey list [--json]` shows the stored keys' ids, labels, creation dates and
 *   fingerprints — never a key.
 * - `apikey revoke <id>` deletes a stored key (running servers stop accepting it at once on
 *   PostgreSQL, within `apiKeyCacheMs` (1 s by default) on SQLite).
 */
import type { Command } from 'commander';
import type { CliSession } from '../../src/index.js';
import { ApiKeyStore } from './stores/api-key-store.js';

/** Adds the plugin's subcommands. */
export function redballCli(command: Command, session: CliSession<{ apiKeys: string[] }>): void {
  const apikey = command.command('apikey').description('manage the API keys of redball\'s API (the apikey parameter)');
  apikey
    .command('create')
    .description('create an API key and print it on standard output, alone (it is shown only this once): KEY=$(switchboard redball apikey create)')
    .option('-n, --name <label>', 'a label to recognise the key by', '')
    .option('--json', 'print {"id", "name", "key"} as JSON instead of the bare key')
    .action((options: { name: string; json?: boolean }) =>
      session.run(async (ctx) => {
        const label = options.name.trim();
        if (label.length > 200) {
          session.err('The label must be at most 200 characters.');
          return 2;
        }
        const { id, key } = await ctx.container.resolve(ApiKeyStore).create(label);
        // Standard output carries only what a script captures; the sentence is for the person.
        session.out(options.json ? JSON.stringify({ id, name: label, key }) : key);
        session.err(`API key ${id}${label ? ` (${label})` : ''} created. Store it now; it cannot be shown again.`);
        return 0;
      }),
    );
  apikey
    .command('list')
    .description('list the stored API keys (ids, labels, dates; never the keys)')
    .option('--json', 'print {"keys": [{"id", "name", "createdAt", "fingerprint"}], "configured": <number>} as JSON')
    .action((options: { json?: boolean }) =>
      session.run(async (ctx) => {
        const keys = await ctx.container.resolve(ApiKeyStore).list();
        const configured = ctx.config.apiKeys.length;
        if (options.json) {
          session.out(JSON.stringify({ keys, configured }));
          return 0;
        }
        if (keys.length === 0) session.out('No stored API keys.');
        else {
          const rows = [['ID', 'NAME', 'CREATED', 'FINGERPRINT'], ...keys.map((k) => [String(k.id), k.name, k.createdAt, k.fingerprint])];
          const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
          for (const r of rows) session.out(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
        }
        if (configured > 0) session.out(`Plus ${configured} key${configured > 1 ? 's' : ''} from the configuration (plugins.redball.apiKeys).`);
        return 0;
      }),
    );
  apikey
    .command('revoke <id>')
    .description('revoke (delete) a stored API key by its id')
    .action((rawId: string) =>
      session.run(async (ctx) => {
        const id = /^\d{1,10}$/.test(rawId) ? Number(rawId) : NaN;
        if (!Number.isSafeInteger(id) || id < 1 || id > 2_147_483_647) {
          session.err(`'${rawId}' is not an API key id; see 'switchboard redball apikey list'.`);
          return 2;
        }
        if (!(await ctx.container.resolve(ApiKeyStore).revoke(id))) {
          session.err(`No stored API key has id ${id}.`);
          return 1;
        }
        session.out(`API key ${id} revoked.`);
        return 0;
      }),
    );
}
