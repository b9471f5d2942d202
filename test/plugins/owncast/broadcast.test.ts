/**
 * Broadcasts reported by the host (programmatic API) and by a person (the CLI, a separate
 * kernel on the same database as the running server), peak counts that persist, the admin
 * disconnect and the event it sends the host, metrics sampled from the machine, the log
 * endpoints, and the token and key CLI commands.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Command, CommanderError } from 'commander';
import YAML from 'yaml';
import { buildCli } from '../../../examples/standalone/cli.js';
import { createTestDatabase, databaseKinds } from '../../../src/testing/index.js';
import { BroadcastError, OwncastTokens, type BroadcastService } from '../../../plugins/owncast/index.js';
import { startReceiver } from '../../helpers/receiver.js';
import { basic, bearer, chatClient, getJson, KEY, post, startOwncast, until, owncastOf } from './fixtures/helpers.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function cli(argv: string[], configFile: string) {
  const out: string[] = [];
  const err: string[] = [];
  const codes: number[] = [];
  const program = buildCli(['node', 'switchboard', ...argv], { env: { SWITCHBOARD_CONFIG: configFile }, output: { out: (l) => void out.push(l), err: (l) => void err.push(l) }, setExitCode: (c) => void codes.push(c) });
  // Usage errors throw (instead of exiting the test process) and are recorded as exit code 1.
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeErr: (line) => void err.push(line.trim()), writeOut: (line) => void out.push(line.trim()) });
    c.commands.forEach(quiet);
  };
  quiet(program);
  return program.parseAsync(argv, { from: 'user' }).then(
    () => ({ out, err, code: codes.at(-1) ?? 0 }),
    // An error thrown by a command's action (not a usage error) is kept as its text.
    (e: CommanderError) => ({ out, err: e.exitCode === undefined ? [...err, String(e.message)] : err, code: e.exitCode || 1 }),
  );
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: the host reports broadcasts; peaks persist; an admin disconnect tells the host`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const config = { metrics: { viewersIntervalMs: 60, hardwareIntervalMs: 60, retention: 3 } };
    const sb = await startOwncast(db.url, config);
    let closed = false;
    t.teardown(() => (closed ? undefined : sb.close()));
    const broadcasts = sb.kernel.container.resolve<BroadcastService>(OwncastTokens.Broadcasts);
    const hostEvents: string[] = [];
    sb.kernel.events.on('owncast.broadcast.started', (e) => void hostEvents.push(`started:${e.broadcaster.remoteAddr}`));
    sb.kernel.events.on('owncast.broadcast.stopped', (e) => void hostEvents.push(`stopped:${e.reason}`));
    sb.kernel.events.on('owncast.broadcast.disconnect-requested', () => void hostEvents.push('disconnect-requested'));

    const offline = await getJson(sb, '/api/status', {});
    t.match(offline, { online: false, viewerCount: 0, lastConnectTime: null, lastDisconnectTime: null, versionNumber: '0.0.7' });
    const noStream = await post(sb, '/api/admin/disconnect', {}, basic());
    t.equal(noStream.status, 400);
    t.same(await noStream.json(), { success: false, message: 'no inbound stream connected' });

    const clients = [await chatClient(sb), await chatClient(sb), await chatClient(sb)];
    t.teardown(() => Promise.all(clients.map((c) => c.close())));
    t.equal((await getJson(sb, '/api/status', {})).viewerCount, 0, 'viewers count only while online (as Owncast)');

    await t.rejects(broadcasts.start({ streamDetails: { width: -1 } }), { code: 'INVALID_DETAILS' });
    await t.rejects(broadcasts.start({ streamDetails: { videoCodec: 5 } as never }), BroadcastError);
    const details = { width: 1280, height: 720, frameRate: 29.97, videoBitrate: 2500, videoCodec: 'H.264', audioBitrate: 160, audioCodec: 'AAC', encoder: 'obs-output module (libobs version 27.0.0)' };
    const state = await broadcasts.start({ remoteAddr: '203.0.113.5', streamDetails: details });
    t.equal(state.online, true);
    await t.rejects(broadcasts.start({}), { code: 'ALREADY_ONLINE' }, 'a second publisher is refused');

    const status = await getJson(sb, '/api/status', {});
    t.match(status, { online: true, viewerCount: 3, sessionMaxViewerCount: 3, overallMaxViewerCount: 3, lastDisconnectTime: null });
    t.match(status.lastConnectTime, ISO);
    const adminStatus = await getJson(sb, '/api/admin/status');
    t.match(adminStatus, { online: true, viewerCount: 3, sessionPeakViewerCount: 3, overallPeakViewerCount: 3 });
    t.same(adminStatus.broadcaster.streamDetails, { width: 1280, height: 720, frameRate: 30, framerate: 29.97, videoBitrate: 2500, videoCodec: 'H.264', audioBitrate: 160, audioCodec: 'AAC', encoder: details.encoder });
    t.equal(adminStatus.broadcaster.remoteAddr, '203.0.113.5');
    const history = JSON.parse(await (await sb.fetch('/api/chat')).text()) as any[];
    t.match(history.at(-1), { type: 'STREAM_STARTED', body: '<p>Stay tuned, the stream is <strong>starting</strong>!</p>' });

    clients.push(await chatClient(sb));
    await until(async () => (await getJson(sb, '/api/status', {})).sessionMaxViewerCount === 4);
    await clients.pop()!.close();
    await clients.pop()!.close();
    await until(async () => (await getJson(sb, '/api/status', {})).viewerCount === 2);

    t.test('metrics are sampled from the machine and the chat, and bounded', async (t) => {
      // Samples every 60 ms: once three were taken after the count fell to 2, all three say 2
      // (waited for, not slept for: on a loaded machine the timers run late).
      await until(async () => {
        const samples = await getJson(sb, '/api/admin/viewersOverTime');
        return samples.length === 3 && samples.every((v: any) => v.value === 2);
      }, 10_000, 'three samples of the current count');
      const viewers = await getJson(sb, '/api/admin/viewersOverTime');
      t.equal(viewers.length, 3, 'retention keeps the newest 3');
      t.ok(viewers.every((v: any) => ISO.test(v.time) && v.value === 2), 'each sample is the viewer count');
      const hw = await getJson(sb, '/api/admin/hardwarestats');
      for (const series of ['cpu', 'memory', 'disk']) {
        t.equal(hw[series].length, 3, `${series} keeps 3`);
        t.ok(hw[series].every((v: any) => Number.isInteger(v.value) && v.value >= 0 && v.value <= 100 && ISO.test(v.time)), `${series} is an integer percentage`);
      }
      t.ok(hw.memory.every((v: any) => v.value > 0), 'memory in use is never zero on a real machine');
    });

    t.test('the log endpoints show the kernel log ring', async (t) => {
      const ctx = sb.kernel.context('owncast');
      ctx.logger.warn('disk is getting full');
      ctx.logger.error(`a failure mentioning ${KEY}`);
      const logs = await getJson(sb, '/api/admin/logs');
      t.ok(logs.some((l: any) => l.message === 'stream started' && l.level === 'info'), 'info lines are there');
      t.ok(logs.every((l: any) => ISO.test(l.time) && typeof l.message === 'string'));
      const warnings = await getJson(sb, '/api/admin/logs/warnings');
      t.ok(warnings.some((l: any) => l.message === 'disk is getting full' && l.level === 'warning'));
      t.ok(warnings.every((l: any) => ['warning', 'error', 'fatal'].includes(l.level)), 'only warnings and worse');
      t.ok(warnings.some((l: any) => l.message === 'a failure mentioning [REDACTED]' && l.level === 'error'), 'the stream key is scrubbed');
      t.notOk(JSON.stringify(logs).includes(KEY));
    });

    t.test('an admin disconnect ends the broadcast and tells the host', async (t) => {
      const res = await post(sb, '/api/admin/disconnect', {}, basic());
      t.same(await res.json(), { success: true, message: 'inbound stream disconnected' });
      t.same(hostEvents, ['started:203.0.113.5', 'disconnect-requested', 'stopped:admin']);
      const after = await getJson(sb, '/api/status', {});
      t.match(after, { online: false, viewerCount: 0, sessionMaxViewerCount: 4, overallMaxViewerCount: 4 });
      t.match(after.lastDisconnectTime, ISO);
      t.equal((await getJson(sb, '/api/admin/status')).broadcaster, null);
      await t.rejects(broadcasts.stop(), { code: 'NOT_ONLINE' });
      const stopped = await clients[0].next((f) => f.type === 'STREAM_STOPPED');
      t.match(stopped, { body: '<p>The stream is ending.</p>' });
    });

    t.test('the session peak restarts with each broadcast; the overall peak and the state survive a restart', async (t) => {
      await broadcasts.start({ remoteAddr: '203.0.113.6' });
      t.match(await getJson(sb, '/api/status', {}), { online: true, sessionMaxViewerCount: 2, overallMaxViewerCount: 4 });
      await sb.close();
      closed = true;
      const again = await startOwncast(db.url, config);
      t.teardown(again.close);
      const status = await getJson(again, '/api/status', {});
      t.match(status, { online: true, viewerCount: 0, sessionMaxViewerCount: 2, overallMaxViewerCount: 4 });
      t.equal((await getJson(again, '/api/admin/status')).broadcaster.remoteAddr, '203.0.113.6');
    });
  });

  t.test(`${kind}: the CLI reports broadcasts and manages tokens and the key for a running server`, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const sb = await startOwncast(kind);
    t.teardown(sb.close);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-owncast-cli-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const configFile = path.join(dir, 'switchboard.yaml');
    fs.writeFileSync(
      configFile,
      YAML.stringify({
        database: { url: sb.databaseUrl },
        log: { level: 'warn' },
        // The CLI enqueues the webhooks the server delivers: both use the same outbound policy.
        webhooks: { allow: ['127.0.0.0/8'] },
        plugins: { opsdroid: { enabled: false }, redball: { enabled: false }, talk: { enabled: false }, anope: { enabled: false }, owncast: { streamKey: KEY } },
      }),
    );
    t.equal((await post(sb, '/api/admin/webhooks/create', { url: receiver.url, events: ['STREAM_STARTED', 'STREAM_STOPPED'] }, basic())).status, 200);
    const viewer = await chatClient(sb);
    t.teardown(viewer.close);
    const hostEvents: string[] = [];
    sb.kernel.events.on('owncast.broadcast.started', (e) => void hostEvents.push(`started:${e.broadcaster.streamDetails.width}`));

    const start = await cli(['owncast', 'stream', 'start', '--width', '1920', '--height', '1080', '--framerate', '60', '--video-bitrate', '6000', '--video-codec', 'H.264', '--audio-codec', 'AAC', '--encoder', 'ffmpeg'], configFile);
    t.equal(start.code, 0, start.err.join('\n'));
    t.match(start.out[0], /^stream started at \d{4}-/);
    await until(async () => (await getJson(sb, '/api/status', {})).online === true, 5000, 'the server sees the CLI broadcast');
    // The viewer connected before the stream started counts toward the peaks at once.
    await until(async () => (await getJson(sb, '/api/status', {})).sessionMaxViewerCount === 1, 5000, 'the peaks count the viewer already there');
    t.match(await getJson(sb, '/api/status', {}), { viewerCount: 1, sessionMaxViewerCount: 1, overallMaxViewerCount: 1 });
    t.match(await getJson(sb, '/api/admin/status'), { sessionPeakViewerCount: 1, overallPeakViewerCount: 1 });
    t.match((await getJson(sb, '/api/admin/status')).broadcaster, { remoteAddr: '127.0.0.1', streamDetails: { width: 1920, height: 1080, frameRate: 60, videoCodec: 'H.264', encoder: 'ffmpeg' } });
    t.match(await viewer.next((f) => f.type === 'STREAM_STARTED'), { body: '<p>Stay tuned, the stream is <strong>starting</strong>!</p>' }, "the server relays the CLI's chat message to its clients");
    await receiver.waitFor(1);
    t.match(JSON.parse(String(receiver.received[0].body)), { type: 'STREAM_STARTED', eventData: { name: 'Owncast' } }, "the server's outbox delivers the CLI's webhook");
    await until(() => hostEvents.length === 1);
    t.same(hostEvents, ['started:1920'], 'the host in the server process hears about it');

    const again = await cli(['owncast', 'stream', 'start'], configFile);
    t.equal(again.code, 1);
    t.same(again.err, ['owncast: a stream is already online']);
    const status = await cli(['owncast', 'stream', 'status'], configFile);
    t.match(JSON.parse(status.out.join('\n')), { online: true, broadcaster: { streamDetails: { width: 1920 } } });
    const bad = await cli(['owncast', 'stream', 'start', '--width', 'wide'], configFile);
    t.equal(bad.code, 1);
    t.match(bad.err.join('\n'), /argument 'wide' is invalid\. expected a number of at least 0/, 'a bad number is refused');
    const badScope = await cli(['owncast', 'token', 'create', '--name', 'x', '--scope', 'CAN_FLY'], configFile);
    t.equal(badScope.code, 1);
    t.match(badScope.err.join('\n'), /expected one of CAN_SEND_SYSTEM_MESSAGES, CAN_SEND_MESSAGES, HAS_ADMIN_ACCESS/);

    const created = await cli(['owncast', 'token', 'create', '--name', 'cli bot', '--scope', 'CAN_SEND_SYSTEM_MESSAGES', '--scope', 'HAS_ADMIN_ACCESS'], configFile);
    t.equal(created.code, 0);
    const token = created.out[0];
    t.match(token, /^[A-Za-z0-9_-]{43}=$/);
    t.same(created.err, ["created token 'cli bot' with scopes CAN_SEND_SYSTEM_MESSAGES, HAS_ADMIN_ACCESS"]);
    t.equal(created.out.length, 1, 'only the token on standard output');
    const asJson = await cli(['owncast', 'token', 'create', '--name', 'json bot', '--scope', 'CAN_SEND_MESSAGES', '--json'], configFile);
    t.equal(asJson.code, 0);
    const structured = JSON.parse(asJson.out.join('\n')) as { token: string; name: string; scopes: string[]; timestamp: string };
    t.match(structured, { name: 'json bot', scopes: ['CAN_SEND_MESSAGES'], timestamp: ISO });
    t.match(structured.token, /^[A-Za-z0-9_-]{43}=$/);
    t.same(Object.keys(structured).sort(), ['name', 'scopes', 'timestamp', 'token']);
    t.same(asJson.err, ["created token 'json bot' with scopes CAN_SEND_MESSAGES"], 'the sentence for people on standard error');
    const removed = await cli(['owncast', 'token', 'delete', structured.token], configFile);
    t.equal(removed.code, 0, `the CLI deletes the token it created (${removed.err.join('; ') || 'nothing on standard error'})`);
    t.same(await (await post(sb, '/api/integrations/chat/system', { body: 'hello from the CLI token' }, bearer(token))).json(), { success: true, message: 'sent' });
    const listed = await cli(['owncast', 'token', 'list'], configFile);
    t.equal(listed.out.length, 1);
    t.ok(listed.out[0].startsWith(`${token.slice(0, 6)}…\tcli bot\tCAN_SEND_SYSTEM_MESSAGES,HAS_ADMIN_ACCESS`), listed.out[0]);
    t.notOk(listed.out[0].includes(token), 'tokens are shortened');
    t.match(listed.out[0], /last used \d{4}-/);
    const full = await cli(['owncast', 'token', 'list', '--json', '--show-tokens'], configFile);
    t.equal(JSON.parse(full.out.join('\n'))[0].token, token);
    const deleted = await cli(['owncast', 'token', 'delete', token], configFile);
    t.same(deleted.out, ['deleted token'], `the CLI deletes it (${deleted.err.join('; ') || 'nothing on standard error'})`);
    t.equal((await post(sb, '/api/integrations/chat/system', { body: 'again' }, bearer(token))).status, 401, 'refused once deleted');
    t.equal((await cli(['owncast', 'token', 'delete', token], configFile)).code, 1);

    const stop = await cli(['owncast', 'stream', 'stop'], configFile);
    t.equal(stop.code, 0);
    await until(async () => (await getJson(sb, '/api/status', {})).online === false, 5000, 'the server sees the stop');
    t.match(await viewer.next((f) => f.type === 'STREAM_STOPPED'), { body: '<p>The stream is ending.</p>' });
    await receiver.waitFor(2);
    t.match(JSON.parse(String(receiver.received[1].body)), { type: 'STREAM_STOPPED' });
    t.same((await cli(['owncast', 'stream', 'stop'], configFile)).err, ['owncast: no inbound stream connected']);

    const rotated = await cli(['owncast', 'key', 'rotate'], configFile);
    const key = rotated.out[0];
    t.match(key, /^[A-Za-z0-9_-]{24}$/);
    await until(async () => (await sb.fetch('/api/admin/status', { headers: basic(key) })).status === 200, 5000, 'the server takes the rotated key');
    t.equal((await sb.fetch('/api/admin/status', { headers: basic() })).status, 401, 'the old key is refused');
    t.equal((await getJson(sb, '/api/admin/serverconfig', basic(key))).streamKey, key);
  });
}

// `owncastOf` is used by other files; referenced here so the import list stays honest.
void owncastOf;
