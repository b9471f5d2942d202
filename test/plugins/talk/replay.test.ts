/**
 * Replay protection of signed bot requests (beyond the original, which accepts a replay): the
 * `X-Nextcloud-Talk-Random` of an accepted bot request is remembered for the replay window;
 * sending the same request again answers 401 and writes nothing, on this instance and on
 * another sharing the database; a fresh random is accepted; randoms older than the window
 * are forgotten.
 */
import t from 'tap';
import { createTestDatabase, databaseKinds, startTestKernel, type TestKernel } from '../../../src/testing/index.js';
import { talkApi, talkPlugin } from '../../../plugins/talk/index.js';
import { RandomStore } from '../../../plugins/talk/stores/randoms.js';
import { signAsBot } from './bot-server.js';
import { identity, secretOf, V1 } from './helpers.js';

for (const kind of databaseKinds()) {
  t.test(`${kind}: a replayed bot request gets 401 and writes nothing, on every instance`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const start = () => startTestKernel({ database: db.url, plugins: [{ plugin: talkPlugin }], identity });
    const a = await start();
    t.teardown(() => a.close());
    const api = talkApi(a.kernel);
    const { room } = await api.conversations.createRoom({ id: 'alice', displayName: 'Alice' }, { type: 2, name: 'Replays' });
    const secret = secretOf('replay-bot');
    const bot = await api.bots.install({ name: 'Replayer', secret, url: 'responseonly://replayer', features: ['response', 'reaction'] });
    await api.bots.setup(bot.id, [room.token]);
    const b = await start();
    t.teardown(() => b.close());

    const send = (sb: TestKernel, path: string, body: Record<string, unknown>, sig: { random: string; signature: string }) =>
      sb.fetch(`${V1}/bot/${room.token}/${path}?format=json`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'OCS-APIRequest': 'true', 'X-Nextcloud-Talk-Bot-Random': sig.random, 'X-Nextcloud-Talk-Bot-Signature': sig.signature },
        body: JSON.stringify(body),
      });
    const messages = async () => (await a.kernel.db(`talk_messages`).count({ n: '*' }).first()) as { n: number | string };
    const count = async () => Number((await messages()).n);

    const sig = signAsBot(secret, 'hello once');
    t.equal((await send(a, 'message', { message: 'hello once' }, sig)).status, 201, 'accepted');
    const before = await count();
    const replay = await send(a, 'message', { message: 'hello once' }, sig);
    t.equal(replay.status, 401, 'the same request again: 401');
    t.same(await replay.json(), { ocs: { meta: { status: 'failure', statuscode: 401, message: '' }, data: null } });
    const elsewhere = await send(b, 'message', { message: 'hello once' }, sig);
    t.equal(elsewhere.status, 401, 'replayed to another instance sharing the database: 401');
    t.equal(await count(), before, 'nothing was written');

    t.equal((await send(b, 'message', { message: 'hello once' }, signAsBot(secret, 'hello once'))).status, 201, 'the same text with a fresh random is a new request');

    // Reactions are protected the same way.
    const target = Number((await a.kernel.db('talk_messages').max({ id: 'id' }).first())!.id);
    const rsig = signAsBot(secret, '🎉');
    t.equal((await send(a, `reaction/${target}`, { reaction: '🎉' }, rsig)).status, 201);
    t.equal((await send(b, `reaction/${target}`, { reaction: '🎉' }, rsig)).status, 401, 'a replayed reaction: 401');

    // A refused (wrong) signature does not use up its random.
    const forged = { random: signAsBot(secret, 'x').random, signature: 'f'.repeat(64) };
    t.equal((await send(a, 'message', { message: 'x' }, forged)).status, 401);
    t.equal((await send(a, 'message', { message: 'x' }, { random: forged.random, signature: signAsBot(secret, 'x', forged.random).signature })).status, 201);

    // Randoms older than the window are forgotten (by the store's prune and at claim time).
    const randoms = a.kernel.context('talk').container.resolve(RandomStore);
    const window = 86_400_000;
    const now = Date.now();
    t.equal(await randoms.claim('r'.repeat(40), window, now - window - 1), true);
    t.equal(await randoms.claim('r'.repeat(40), window, now), true, 'used longer ago than the window: new again');
    t.equal(await randoms.claim('r'.repeat(40), window, now + 1), false);
    await randoms.prune(window, now + window + 1);
    const left = (await a.kernel.db('talk_bot_randoms').count({ n: '*' }).first()) as { n: number | string };
    t.equal(Number(left.n), 0, 'pruned');
  });
}
