/**
 * `switchboard owncast …`: report broadcasts as a host's media server would, and manage
 * access tokens and the stream key.
 *
 * A CLI process cannot reach the running server's memory, so everything it does goes
 * through the database the server shares: the broadcast state, its chat message and its
 * webhook deliveries are written here, the server's outbox worker delivers the webhooks, and
 * the server picks up the new state and relays the chat message to its chat clients within
 * `refreshIntervalMs` (one second by default).
 */
import crypto from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliSession, PluginContext } from '../../src/index.js';
import { BroadcastError } from './broadcasts.js';
import { ALL_SCOPES } from './constants.js';
import { Owncast, OwncastTokens } from './owncast.js';
import type { OwncastConfig } from './plugin-config.js';
import { adminStatusView } from './views.js';

const owncastOf = (ctx: PluginContext<OwncastConfig>) => ctx.container.resolve<Owncast>(OwncastTokens.Owncast);

function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of at least 0');
  return n;
}

function scope(value: string, previous: string[] = []): string[] {
  if (!ALL_SCOPES.includes(value)) throw new InvalidArgumentError(`expected one of ${ALL_SCOPES.join(', ')}`);
  return [...previous, value];
}

/** Adds the owncast subcommands. */
export function owncastCli(command: Command, session: CliSession<OwncastConfig>): void {
  command.description('Owncast: report broadcasts, manage access tokens and the stream key');

  const stream = command.command('stream').description('report a broadcast to the server, as a media server would');
  stream
    .command('start')
    .description('report that a stream started (the server goes online)')
    .option('--remote-addr <address>', "the publisher's address", '127.0.0.1')
    .option('--width <px>', 'video width', nonNegative)
    .option('--height <px>', 'video height', nonNegative)
    .option('--framerate <fps>', 'frames per second', nonNegative)
    .option('--video-bitrate <kbps>', 'video bitrate', nonNegative)
    .option('--video-codec <codec>', 'video codec, e.g. H.264')
    .option('--audio-bitrate <kbps>', 'audio bitrate', nonNegative)
    .option('--audio-codec <codec>', 'audio codec, e.g. AAC')
    .option('--encoder <name>', 'the broadcasting software')
    .action((opts: Record<string, string | number | undefined>) =>
      session.run(async (ctx) => {
        try {
          const state = await owncastOf(ctx).broadcasts.start({
            remoteAddr: opts.remoteAddr as string,
            streamDetails: {
              width: opts.width as number | undefined,
              height: opts.height as number | undefined,
              frameRate: opts.framerate as number | undefined,
              videoBitrate: opts.videoBitrate as number | undefined,
              videoCodec: opts.videoCodec as string | undefined,
              audioBitrate: opts.audioBitrate as number | undefined,
              audioCodec: opts.audioCodec as string | undefined,
              encoder: opts.encoder as string | undefined,
            },
          });
          session.out(`stream started at ${state.lastConnectTime?.toISOString()}`);
          return 0;
        } catch (err) {
          if (err instanceof BroadcastError) {
            session.err(`owncast: ${err.message}`);
            return 1;
          }
          throw err;
        }
      }),
    );
  stream
    .command('stop')
    .description('report that the stream stopped (the server goes offline)')
    .action(() =>
      session.run(async (ctx) => {
        try {
          const state = await owncastOf(ctx).broadcasts.stop('host');
          session.out(`stream stopped at ${state.lastDisconnectTime?.toISOString()}`);
          return 0;
        } catch (err) {
          if (err instanceof BroadcastError) {
            session.err(`owncast: ${err.message}`);
            return 1;
          }
          throw err;
        }
      }),
    );
  stream
    .command('status')
    .description('print the broadcast state as JSON')
    .action(() =>
      session.run(async (ctx) => {
        const owncast = owncastOf(ctx);
        session.out(JSON.stringify(adminStatusView(await owncast.state.load(), 0, owncast.settings.settings, ctx.config.versionNumber), null, 2));
      }),
    );

  const token = command.command('token').description('manage integration access tokens');
  token
    .command('create')
    .description('create an access token and print it alone on standard output (TOKEN=$(…) captures it); the sentence for people goes to standard error')
    .requiredOption('--name <name>', 'a name for the token')
    .requiredOption('--scope <scope>', `a scope (repeat for several): ${ALL_SCOPES.join(', ')}`, scope)
    .option('--json', 'print the token, its name, scopes and creation time as JSON')
    .action((opts: { name: string; scope: string[]; json?: boolean }) =>
      session.run(async (ctx) => {
        if (opts.name.trim() === '') {
          session.err('owncast: --name must not be empty');
          return 1;
        }
        const created = await owncastOf(ctx).tokens.create(opts.name, opts.scope);
        session.out(opts.json ? JSON.stringify({ token: created.token, name: created.name, scopes: created.scopes, timestamp: created.timestamp }, null, 2) : created.token);
        session.err(`created token '${created.name}' with scopes ${created.scopes.join(', ')}`);
      }),
    );
  token
    .command('list')
    .description('list the access tokens (tokens shortened unless --show-tokens)')
    .option('--show-tokens', 'print whole tokens')
    .option('--json', 'print JSON')
    .action((opts: { showTokens?: boolean; json?: boolean }) =>
      session.run(async (ctx) => {
        const tokens = (await owncastOf(ctx).tokens.list()).map((t) => ({ ...t, token: opts.showTokens ? t.token : `${t.token.slice(0, 6)}…` }));
        if (opts.json) {
          session.out(JSON.stringify(tokens, null, 2));
          return;
        }
        if (tokens.length === 0) session.out('no access tokens');
        for (const t of tokens) session.out([t.token, t.name, t.scopes.join(','), `created ${t.timestamp}`, `last used ${t.lastUsed ?? 'never'}`].join('\t'));
      }),
    );
  token
    .command('delete <token>')
    .description('delete an access token')
    .action((value: string) =>
      session.run(async (ctx) => {
        if (!(await owncastOf(ctx).tokens.delete(value))) {
          session.err('owncast: no such token');
          return 1;
        }
        session.out('deleted token');
      }),
    );

  command
    .command('key')
    .description('stream key (admin password) commands')
    .command('rotate')
    .description('replace the stream key with a new random one and print it')
    .action(() =>
      session.run(async (ctx) => {
        const key = crypto.randomBytes(18).toString('base64url');
        ctx.secrets.add(key);
        await owncastOf(ctx).settings.update({ streamKey: key });
        session.out(key);
      }),
    );
}
