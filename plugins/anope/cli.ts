/**
 * `switchboard anope …`: API tokens (create, list, revoke), the registered types, and the
 * schema synchronization on demand.
 */
import type { Command } from 'commander';
import type { CliSession } from '../../src/index.js';
import type { AnopeConfig } from './config.js';
import { ANY_TYPE } from './type-registry.js';
import { AnopeServicesToken as SERVICES, type AnopeServices } from './services.js';

/** Adds the anope subcommands. */
export function registerCli(command: Command, session: CliSession<AnopeConfig>): void {
  const token = command.command('token').description('API tokens for `Authorization: Bearer` (the default auth policy)');
  token
    .command('create')
    .description('create a token and print it alone on standard output, shown only this once (TOKEN=$(…) captures it); the sentence for people goes to standard error')
    .option('-l, --label <label>', 'a note to recognise it by', '')
    .option('--json', 'print {"id", "label", "token"} as JSON instead of the bare token')
    .action((opts: { label: string; json?: boolean }) =>
      session.run(async (ctx) => {
        const { tokens } = ctx.container.resolve<AnopeServices>(SERVICES);
        const created = await tokens.create(opts.label);
        session.out(opts.json ? JSON.stringify({ id: created.id, label: opts.label, token: created.token }) : created.token);
        session.err(`token ${created.id} created; send it as: Authorization: Bearer <token>`);
        if (ctx.config.auth !== 'tokens') session.err(`note: plugins.anope.auth is not 'tokens', so stored tokens are not accepted until it is`);
        return 0;
      }),
    );
  token
    .command('list')
    .description('list the stored tokens (ids, labels, creation times; never the tokens)')
    .option('--json', 'print [{"id", "label", "createdAt"}] as JSON')
    .action((opts: { json?: boolean }) =>
      session.run(async (ctx) => {
        const { tokens } = ctx.container.resolve<AnopeServices>(SERVICES);
        const list = await tokens.list();
        if (opts.json) {
          session.out(JSON.stringify(list));
          return 0;
        }
        if (list.length === 0) session.out('no tokens');
        for (const t of list) session.out(`${t.id}\t${t.createdAt}\t${t.label}`);
        return 0;
      }),
    );
  token
    .command('revoke <id>')
    .description('revoke a token (running servers stop accepting it at once on PostgreSQL, within 5 s on SQLite)')
    .action((id: string) =>
      session.run(async (ctx) => {
        const { tokens } = ctx.container.resolve<AnopeServices>(SERVICES);
        if (!/^\d+$/.test(id)) {
          session.err(`not a token id: ${id}`);
          return 2;
        }
        if (!(await tokens.revoke(Number(id)))) {
          session.err(`no token ${id}`);
          return 1;
        }
        session.out(`token ${id} revoked`);
        return 0;
      }),
    );
  command
    .command('types')
    .description('list the registered object types with their fields and reference rules')
    .action(() =>
      session.run((ctx) => {
        const { registry } = ctx.container.resolve<AnopeServices>(SERVICES);
        for (const type of registry.list()) {
          const fields = type.fields.map((f) => {
            if (f.ref) return `${f.name} -> ${f.ref === ANY_TYPE ? 'any' : f.ref} (${f.onDelete === 'cascade' ? 'cascade' : 'null'})`;
            return f.nocase ? `${f.name} (nocase)` : f.name;
          });
          session.out(`${type.name}: ${fields.join(', ')}`);
        }
        return 0;
      }),
    );
  command
    .command('sync')
    .description('create the tables, columns, foreign keys and indexes of every registered type now (start does this too)')
    .action(() =>
      session.run(async (ctx) => {
        const { schema, registry } = ctx.container.resolve<AnopeServices>(SERVICES);
        await schema.ensure();
        session.out(`anope schema is up to date (${registry.list().length} types)`);
        return 0;
      }),
    );
}
