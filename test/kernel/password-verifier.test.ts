/**
 * Password verification that cannot stall the server (issue 15, finding 2): scrypt runs off
 * the event loop, a bounded number at once (past that a refusal at once, in each family's
 * style: Talk's 429, 503 elsewhere), a success is remembered briefly under an HMAC of the
 * credentials, and a client's burst with the same credentials shares one check.
 */
import t from 'tap';
import {
  hashPassword,
  HttpErrorCodes,
  isPasswordHash,
  isVerifierBusy,
  PasswordVerifier,
  VerifierBusyError,
  verifyPassword,
  verifyPasswordAsync,
} from '../../src/index.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { usersIdentity } from '../../examples/standalone/identity.js';
import { talkPlugin } from '../../plugins/talk/index.js';
import { anopePlugin } from '../../plugins/anope/index.js';

const STORED = hashPassword('correct horse');

t.test('verifyPasswordAsync agrees with verifyPassword, for hashes and plain values', async (t) => {
  t.equal(await verifyPasswordAsync('correct horse', STORED), true);
  t.equal(await verifyPasswordAsync('correct horsf', STORED), false);
  t.equal(await verifyPasswordAsync('', STORED), false);
  t.equal(await verifyPasswordAsync('plain', 'plain'), true);
  t.equal(await verifyPasswordAsync('plain', 'plaim'), false);
  t.equal(verifyPassword('correct horse', STORED), true);
  t.equal(isPasswordHash(STORED), true);
  t.equal(isPasswordHash('scrypt-looking-but-plain'), false);
});

t.test('scrypt runs off the event loop: timers fire while a check runs', async (t) => {
  const verifier = new PasswordVerifier({ maxInFlight: 1 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = process.hrtime.bigint();
  const ok = await verifier.verify('alice', 'correct horse', STORED);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(timer);
  t.equal(ok, true);
  // With scryptSync the interval could not fire at all until the check was over.
  t.ok(ticks >= 2, `the event loop ran ${ticks} timer callbacks during a ${elapsedMs.toFixed(1)} ms check`);
});

t.test('past maxInFlight a different check is refused at once; the same credentials share one check', async (t) => {
  const verifier = new PasswordVerifier({ maxInFlight: 1 });
  const first = Promise.resolve(verifier.verify('alice', 'wrong 1', STORED));
  t.equal(verifier.inFlight, 1);
  const order: string[] = [];
  void first.then(() => order.push('first'));
  const second = Promise.resolve(verifier.verify('alice', 'wrong 2', STORED));
  const err = await second.then(() => undefined, (e: unknown) => e);
  order.push('second refused');
  t.same(order, ['second refused'], 'refused without waiting for the running check');
  t.ok(err instanceof VerifierBusyError && isVerifierBusy(err));
  t.equal((err as VerifierBusyError).status, 503);
  t.equal((err as VerifierBusyError).code, HttpErrorCodes.AUTH_BUSY);
  t.equal((err as VerifierBusyError).headers['Retry-After'], '1');
  // The same credentials as the running check wait for it instead of being refused.
  const same = verifier.verify('alice', 'wrong 1', STORED);
  t.same(await Promise.all([first, same]), [false, false]);
  t.equal(verifier.inFlight, 0);
  t.equal(await verifier.verify('alice', 'wrong 2', STORED), false, 'a slot is free again');
});

t.test('plain stored values are compared at once, never counted against the bound', async (t) => {
  const verifier = new PasswordVerifier({ maxInFlight: 1 });
  const running = verifier.verify('alice', 'wrong', STORED);
  t.equal(verifier.verify('bob', 'plain-pw', 'plain-pw'), true, 'answered at once (not a promise)');
  t.equal(verifier.verify('bob', 'plain-px', 'plain-pw'), false);
  t.equal(verifier.rememberedCount, 0);
  await running;
});

t.test('a success is remembered for rememberMs under an HMAC key; failures are not remembered', async (t) => {
  let now = 1_000_000;
  const verifier = new PasswordVerifier({ maxInFlight: 1, rememberMs: 60_000, now: () => now });
  t.equal(await verifier.verify('alice', 'wrong', STORED), false);
  t.equal(verifier.rememberedCount, 0, 'a failure is not remembered');
  t.equal(await verifier.verify('alice', 'correct horse', STORED), true);
  t.equal(verifier.rememberedCount, 1);
  const keys = [...(verifier as unknown as { remembered: Map<string, number> }).remembered.keys()];
  t.notOk(keys.some((k) => k.includes('correct') || k.includes('alice')), 'keyed by a hash, not by the credentials');
  // While a (slow) check of other credentials holds the only slot, the remembered client passes.
  const blocking = verifier.verify('mallory', 'guess', STORED);
  t.equal(verifier.verify('alice', 'correct horse', STORED), true, 'remembered: no scrypt, no slot, answered at once (not a promise)');
  await t.rejects(Promise.resolve(verifier.verify('alice', 'correct horsf', STORED)), VerifierBusyError, 'other credentials still need a slot');
  t.equal(await Promise.resolve(verifier.verify('bob', 'correct horse', STORED)).catch(() => 'busy'), 'busy', 'remembered for that user only');
  await blocking;
  now += 60_001;
  const blocking2 = verifier.verify('mallory', 'guess', STORED);
  await t.rejects(Promise.resolve(verifier.verify('alice', 'correct horse', STORED)), VerifierBusyError, 'forgotten after rememberMs');
  await blocking2;
  t.equal(await verifier.verify('alice', 'correct horse', STORED), true);
  verifier.forget();
  t.equal(verifier.rememberedCount, 0);
});

t.test('the memory is bounded: the oldest successes go first', async (t) => {
  const verifier = new PasswordVerifier({ maxInFlight: 2, rememberMax: 2 });
  const plainHash = (pw: string) => hashPassword(pw);
  const stored = [plainHash('a'), plainHash('b'), plainHash('c')];
  await verifier.verify('u', 'a', stored[0]);
  await verifier.verify('u', 'b', stored[1]);
  await verifier.verify('u', 'c', stored[2]);
  t.equal(verifier.rememberedCount, 2);
});

t.test('usersIdentity: wrong, right and unknown users through the verifier', async (t) => {
  const identity = usersIdentity([{ id: 'alice', password: STORED, admin: true }], { maxInFlight: 1 });
  const req = (user: string, pw: string) => ({ headers: { authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` } }) as never;
  t.match(await identity(req('alice', 'correct horse')), { id: 'alice', admin: true });
  t.equal(await identity(req('alice', 'nope')), null);
  t.equal(await identity(req('nobody', 'correct horse')), null, 'an unknown user is refused even with a right password of another');
  t.equal(await identity({ headers: {} } as never), null);
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: a flood of wrong logins is refused at once in each family's style`, async (t) => {
    const identity = usersIdentity([{ id: 'alice', password: STORED, admin: true }], { maxInFlight: 1 });
    const sb = await startTestKernel({
      database: kind,
      plugins: [{ plugin: talkPlugin }, { plugin: anopePlugin, config: { auth: 'host' } }],
      identity,
    });
    t.teardown(() => sb.close());
    const basic = (pw: string) => `Basic ${Buffer.from(`alice:${pw}`).toString('base64')}`;
    const talk = (pw: string) => sb.fetch('/ocs/v2.php/apps/spreed/api/v1/bot/admin?format=json', { headers: { authorization: basic(pw), 'ocs-apirequest': 'true' } });
    const anope = (pw: string) => sb.fetch('/rest/types', { headers: { authorization: basic(pw) } });

    const talkAnswers = await Promise.all(Array.from({ length: 6 }, (_, i) => talk(`wrong-${i}`)));
    const talkStatuses = talkAnswers.map((r) => r.status).sort();
    t.ok(talkStatuses.includes(429), `Talk refuses past the bound with 429 (${talkStatuses.join(',')})`);
    t.ok(talkStatuses.every((s) => s === 401 || s === 429), 'the others are the usual 401');
    const refused = talkAnswers[talkAnswers.findIndex((r) => r.status === 429)];
    t.equal(refused.headers.get('retry-after'), '1');
    t.match(await refused.json(), { ocs: { meta: { status: 'failure', statuscode: 429, message: 'Reached maximum delay' }, data: [] } });

    const anopeAnswers = await Promise.all(Array.from({ length: 6 }, (_, i) => anope(`wrong-${i}`)));
    const busy = anopeAnswers.find((r) => r.status === 503);
    t.ok(busy, `Anope refuses past the bound with 503 (${anopeAnswers.map((r) => r.status).join(',')})`);
    t.ok(anopeAnswers.every((r) => r.status === 401 || r.status === 503));
    t.equal(busy!.headers.get('retry-after'), '1');
    t.match(busy!.headers.get('content-type'), /^text\/plain/, "Anope's plain-text error style");
    t.notMatch(await busy!.text(), /Error|at /);

    // The right password gets in, and is then remembered: a burst of it is never refused.
    t.equal((await talk('correct horse')).status, 200);
    const burst = await Promise.all([...Array.from({ length: 4 }, (_, i) => talk(`wrong-again-${i}`)), ...Array.from({ length: 8 }, () => talk('correct horse'))]);
    t.same(burst.slice(4).map((r) => r.status), Array(8).fill(200), 'the remembered client is never refused');
  });
}
