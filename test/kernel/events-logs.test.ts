import crypto from 'node:crypto';
import t from 'tap';
import { Writable } from 'node:stream';
import { secretMatcher } from '../../src/secrets.js';
import { EventBus, Kernel, LogRing, SecretRegistry, createLogging, safeEqual, hashToken, verifyPassword, hashPassword, definePlugin } from '../../src/index.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    'test.ping': { n: number };
  }
}

t.test('a throwing or rejecting listener is logged and never breaks the emitter', async (t) => {
  const { logger, ring } = createLogging({ level: 'silent' }, new SecretRegistry());
  const bus = new EventBus(logger);
  const got: number[] = [];
  bus.on('test.ping', () => {
    throw new Error('listener one broke');
  });
  bus.on('test.ping', async () => {
    throw new Error('listener two rejected');
  });
  const off = bus.on('test.ping', ({ n }) => void got.push(n));
  t.equal(bus.emit('test.ping', { n: 1 }), true);
  await new Promise((r) => setImmediate(r));
  t.same(got, [1], 'the other listener still ran');
  const errors = ring.entries('error').map((e) => e.message);
  t.equal(errors.filter((m) => m === "listener for event 'test.ping' failed").length, 2);
  off();
  bus.emit('test.ping', { n: 2 });
  t.same(got, [1], 'unsubscribed');
});

t.test('logs: a child per plugin, secrets scrubbed everywhere, a bounded ring', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const p = definePlugin({
    id: 'chatty',
    version: '1',
    init(ctx) {
      ctx.secrets.add('super-secret-value');
      ctx.logger.info({ token: 'field-token-123', nested: { password: 'pw-in-field' } }, 'connecting with super-secret-value');
      ctx.logger.warn('something odd');
    },
  });
  const kernel = new Kernel({ database: 'sqlite::memory:', logger: { level: 'info', destination: sink }, plugins: [p] });
  await kernel.start();
  await kernel.stop();
  const all = lines.join('');
  t.notMatch(all, /super-secret-value|field-token-123|pw-in-field/);
  t.match(all, /connecting with \[REDACTED\]/);
  const mine = kernel.logs.entries().filter((e) => e.plugin === 'chatty');
  t.same(mine.map((e) => e.level), ['info', 'warn']);
  t.same(kernel.logs.entries('warn').filter((e) => e.plugin === 'chatty').map((e) => e.message), ['something odd']);

  const ring = new LogRing(3);
  for (let i = 0; i < 5; i++) ring.push(JSON.stringify({ level: 30, time: i, msg: `m${i}` }));
  t.same(ring.entries().map((e) => e.message), ['m2', 'm3', 'm4']);
});

t.test('silent output still fills the ring', async (t) => {
  const { logger, ring } = createLogging({ level: 'silent' }, new SecretRegistry());
  logger.info('kept for the log endpoints');
  t.equal(ring.entries().length, 1);
});

t.test('secret helpers', async (t) => {
  t.ok(safeEqual('abc', 'abc'));
  t.notOk(safeEqual('abc', 'abd'));
  t.notOk(safeEqual('abc', 'abcd'));
  t.ok(safeEqual('é', 'é'));
  // The matcher of one expected secret answers as safeEqual does.
  const matches = secretMatcher('abc');
  for (const given of ['abc', 'abd', 'abcd', 'ab', '', 'ABC']) t.equal(matches(given), safeEqual(given, 'abc'), `matcher: ${given}`);
  t.ok(secretMatcher(Buffer.from('é'))(Buffer.from('é')));
  t.notOk(safeEqual('é', 'e'));
  // Stored key hashes from earlier releases must still match: SHA-256 in hex (FIPS 180-2 vector).
  t.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(hashToken('é'), crypto.createHash('sha256').update('é', 'utf8').digest('hex'));
  const stored = hashPassword('hunter2');
  t.ok(verifyPassword('hunter2', stored));
  t.notOk(verifyPassword('hunter3', stored));
  t.ok(verifyPassword('plain', 'plain'), 'plain passwords from hand-written config');
  const reg = new SecretRegistry();
  reg.add('short');
  t.equal(reg.size, 0, 'too short to scrub safely');
  reg.add('with"quote');
  t.equal(reg.scrub(JSON.stringify({ m: 'with"quote' })), '{"m":"[REDACTED]"}');
});
