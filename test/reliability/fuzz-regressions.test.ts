/**
 * What the route fuzzer found, pinned as exact cases on both databases, so each fix stays
 * fixed even when the fuzzer's seeded subset moves on:
 *
 * - NUL characters in a path, query or body value answered 500 on PostgreSQL (it stores no
 *   NUL in text) in redball, talk, anope and owncast → the family's 400 now, from the kernel.
 * - Numbers past the 32-bit id columns (`replyTo: 2^63`, `/reaction/<token>/99999999999999999999999`,
 *   `attendeeId`) answered 500 on PostgreSQL in talk → treated as ids that match nothing.
 * - Owncast's `POST /api/admin/webhooks/delete` with an id past the column's range answered 500
 *   on PostgreSQL → 400 "not found" now (the route checks the id's range).
 */
import t from 'tap';
import { databaseKinds } from '../../src/testing/index.js';
import { basicAuth } from './fixtures-a/http.js';
import { startFullStandalone } from './fixtures-a/standalone.js';

const V1 = '/ocs/v2.php/apps/spreed/api/v1';
const V4 = '/ocs/v2.php/apps/spreed/api/v4';

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sa = await startFullStandalone(kind);
    t.teardown(sa.close);
    const s = sa.secrets;
    const json = { 'content-type': 'application/json' };
    const ocs = { authorization: basicAuth('alice', s.users.alice), 'ocs-apirequest': 'true', accept: 'application/json', ...json };
    const owncast = { authorization: basicAuth('admin', s.owncastStreamKey), ...json };
    const room = sa.seeds.talkRoom;

    t.test('NUL characters get each family\'s 400 and change nothing', async (t) => {
      const cases: Array<{ name: string; req: Parameters<typeof sa.send>[0]; status: number; body: (text: string, json: any) => boolean }> = [
        {
          name: 'redball: a bot name',
          req: { method: 'POST', path: `/api/v1/bots?apikey=${s.redballKey}`, headers: json, body: JSON.stringify({ name: 'a\u0000b', botType: sa.seeds.redballTypeId, autoRun: 'False' }) },
          status: 400,
          body: (_, j) => j?.errors?.[0] === '400 Bad Request' && /must not contain NUL characters/.test(j.errors.join(' ')),
        },
        {
          name: 'redball: a form field',
          req: { method: 'PUT', path: `/api/v1/bottypes/${sa.seeds.redballTypeId}?apikey=${s.redballKey}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'description=a%00b' },
          status: 400,
          body: (_, j) => j?.errors?.[0] === '400 Bad Request',
        },
        {
          name: 'talk: a chat message',
          req: { method: 'POST', path: `${V1}/chat/${room}`, headers: ocs, body: JSON.stringify({ message: 'a\u0000b' }) },
          status: 400,
          body: (_, j) => j?.ocs?.meta?.statuscode === 400,
        },
        {
          name: 'anope: a search value in the path',
          req: { method: 'GET', path: '/rest/account/email/a%00b', headers: { authorization: `Bearer ${s.anopeToken}` } },
          status: 400,
          body: (text) => /^Invalid request: params\/value must not contain NUL characters$/.test(text),
        },
        {
          name: 'anope: a raw field value (anope checks its raw bodies itself)',
          req: { method: 'PUT', path: `/rest/account/${sa.seeds.anopeAccountId}/email`, headers: { authorization: `Bearer ${s.anopeToken}`, 'content-type': 'text/plain' }, body: 'a\u0000b' },
          status: 400,
          body: (text) => text === 'Invalid value for field email: it contains a NUL character',
        },
        {
          name: 'owncast: an integration chat message',
          req: { method: 'POST', path: '/api/integrations/chat/system', headers: { authorization: `Bearer ${s.owncastTokens.CAN_SEND_SYSTEM_MESSAGES}`, ...json }, body: JSON.stringify({ body: 'a\u0000b' }) },
          status: 400,
          body: (_, j) => j?.success === false && /NUL/.test(j.message),
        },
        {
          name: 'owncast: the server name',
          req: { method: 'POST', path: '/api/admin/config/name', headers: owncast, body: JSON.stringify({ value: 'a\u0000b' }) },
          status: 400,
          body: (_, j) => j?.success === false,
        },
      ];
      for (const c of cases) {
        const res = await sa.send(c.req);
        t.equal(res.status, c.status, `${c.name}: ${res.text.slice(0, 160)}`);
        t.ok(c.body(res.text, res.json), `${c.name}: in the family's style`);
      }
      const bots = await sa.send({ method: 'GET', path: `/api/v1/bots?apikey=${s.redballKey}` });
      t.equal((bots.json as any).response.bots.length, 1, 'redball: no bot was created');
      const chat = await sa.send({ method: 'GET', path: `${V1}/chat/${room}?lookIntoFuture=0`, headers: ocs });
      t.notMatch(chat.text, /a\\u0000b/, 'talk: nothing was posted');
    });

    t.test('talk: ids past the id columns match nothing (no 500 on PostgreSQL)', async (t) => {
      const huge = '99999999999999999999999';
      const reply = await sa.send({ method: 'POST', path: `${V1}/chat/${room}`, headers: ocs, body: JSON.stringify({ message: 'hi', replyTo: 2 ** 63 }) });
      t.equal(reply.status, 400, 'replyTo 2^63: an unknown parent, as for any unknown id');
      const asString = await sa.send({ method: 'POST', path: `${V1}/chat/${room}`, headers: ocs, body: JSON.stringify({ message: 'hi', replyTo: huge }) });
      t.equal(asString.status, 400, 'replyTo as a huge numeric string: the same');
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await sa.send({ method, path: `${V1}/reaction/${room}/${huge}`, headers: ocs, body: method === 'GET' ? undefined : JSON.stringify({ reaction: '👍' }) });
        t.equal(res.status, 404, `${method} reaction of message ${huge}: no such message`);
      }
      const enable = await sa.send({ method: 'POST', path: `${V1}/bot/${room}/${huge}`, headers: ocs });
      t.equal(enable.status, 400, 'enable bot 99…9: unknown bot');
      t.same((enable.json as any).ocs.data, { error: 'bot' });
      const promote = await sa.send({ method: 'POST', path: `${V4}/room/${room}/moderators`, headers: ocs, body: JSON.stringify({ attendeeId: 2 ** 63 }) });
      t.equal(promote.status, 404, 'promote attendee 2^63: no such attendee');
      const read = await sa.send({ method: 'GET', path: `${V1}/chat/${room}?lookIntoFuture=1&timeout=0&lastKnownMessageId=${2 ** 40}`, headers: ocs });
      t.equal(read.status, 304, 'nothing is newer than an id past the range');
      const history = await sa.send({ method: 'GET', path: `${V1}/chat/${room}?lookIntoFuture=0&lastKnownMessageId=${2 ** 40}`, headers: ocs });
      t.equal(history.status, 200, 'history before an id past the range: every message');
    });

    // It answered 500 on PostgreSQL when the id reached the integer column unchecked.
    t.test('owncast: deleting a webhook id past the id column is "not found", not a 500', async (t) => {
      for (const id of [2 ** 63, '9999999999999999']) {
        const res = await sa.send({ method: 'POST', path: '/api/admin/webhooks/delete', headers: owncast, body: JSON.stringify({ id }) });
        t.equal(res.status, 400, `id ${id}: ${res.text}`);
        t.match(res.json, { error: /not found/ });
      }
    });
  });
}
