/**
 * `GET bot/{token}` writes its bots' JSON once per cached answer (a `BotListing`'s text) and
 * only the envelope per request. The bytes must be what the route's serializer wrote before:
 * the envelope's fields in order, PHP's `JSON_HEX_TAG`, a `Content-Length` in bytes (names
 * and descriptions outside ASCII), the XML form from the same data, and a new text after
 * every change.
 */
import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { talkPlugin, talkApi } from '../../../plugins/talk/index.js';
import { V1, V4, basic, identity, ocsClient, secretOf } from './helpers.js';

/** The answer as PHP writes it: `json_encode` with `JSON_HEX_TAG`. */
function phpJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003C').replace(/>/g, '\\u003E');
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: [{ plugin: talkPlugin }] });
    t.teardown(sb.close);
    const alice = ocsClient(sb, 'alice');
    const created = await alice.post(`${V4}/room`, { roomType: 2, roomName: 'Listing' });
    t.equal(created.status, 201);
    const token: string = created.data.token;
    const talk = talkApi(sb.kernel);
    const tagged = await talk.bots.install({ name: 'Tags <b>&</b>', secret: secretOf('listing-a'), url: 'responseonly://listing-a', description: 'Says "<hi>" → ünïcödé' });
    const plain = await talk.bots.install({ name: 'Plain', secret: secretOf('listing-b'), url: 'responseonly://listing-b', description: '' });
    await talk.bots.setup(tagged.id, [token]);
    const headers = { Authorization: basic('alice'), 'OCS-APIRequest': 'true', Accept: 'application/json' };
    const expected = (states: [number, number]) =>
      phpJson({
        ocs: {
          meta: { status: 'ok', statuscode: 200, message: 'OK' },
          data: [
            { id: tagged.id, name: 'Tags <b>&</b>', description: 'Says "<hi>" → ünïcödé', state: states[0] },
            { id: plain.id, name: 'Plain', description: '', state: states[1] },
          ],
        },
      });

    t.test('JSON: the bytes the serializer wrote, from the database and from the cache', async (t) => {
      for (const round of ['read', 'cached']) {
        const res = await sb.fetch(`${V1}/bot/${token}`, { headers });
        t.equal(res.status, 200, round);
        t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
        const body = Buffer.from(await res.arrayBuffer());
        t.equal(body.toString('utf8'), expected([1, 0]), `${round}: envelope, field order and JSON_HEX_TAG`);
        t.equal(Number(res.headers.get('content-length')), body.length, `${round}: Content-Length counts bytes, not characters`);
      }
    });

    t.test('XML: the same data', async (t) => {
      const res = await sb.fetch(`${V1}/bot/${token}?format=xml`, { headers });
      t.equal(res.headers.get('content-type'), 'application/xml; charset=utf-8');
      const parsed = new XMLParser({ parseTagValue: false }).parse(await res.text());
      t.same(parsed.ocs.meta, { status: 'ok', statuscode: '200', message: 'OK' });
      t.same(
        parsed.ocs.data.element.map((e: Record<string, string>) => [e.name, e.description ?? '', e.state]),
        [
          ['Tags <b>&</b>', 'Says "<hi>" → ünïcödé', '1'],
          ['Plain', '', '0'],
        ],
      );
    });

    t.test('a change is seen at once: the cached text is not reused', async (t) => {
      t.equal((await alice.post(`${V1}/bot/${token}/${plain.id}`)).status, 201);
      const res = await sb.fetch(`${V1}/bot/${token}`, { headers });
      t.equal(await res.text(), expected([1, 1]));
      t.same(await talk.bots.listForModerator(token, { type: 'users', id: 'alice' }), JSON.parse(expected([1, 1])).ocs.data, 'the programmatic list agrees');
    });

    t.test('refusals are not cached answers', async (t) => {
      const bob = await sb.fetch(`${V1}/bot/${token}`, { headers: { ...headers, Authorization: basic('bob') } });
      t.equal(bob.status, 404);
      t.equal(await bob.text(), phpJson({ ocs: { meta: { status: 'failure', statuscode: 404, message: '' }, data: [] } }));
    });
  });
}
