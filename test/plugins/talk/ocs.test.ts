/**
 * The OCS conventions as Nextcloud answers: format selection, the envelope in JSON
 * (JSON_HEX_TAG) and XML, status mapping (401/997, 403 admin message, unknown-route 404,
 * empty 405 and 304), route parameter patterns, the order login → admin → CSRF, and the
 * kernel's mount prefix.
 */
import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { talkPlugin } from '../../../plugins/talk/index.js';
import { INVALID_QUERY_MESSAGE } from '../../../plugins/talk/constants.js';
import { V1, V4, basic, identity, ocsClient } from './helpers.js';

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: [{ plugin: talkPlugin, mount: '/nc' }] });
    t.teardown(sb.close);
    const base = '/nc';
    const raw = (p: string, init: RequestInit = {}) => sb.fetch(`${base}${p}`, init);
    const alice = ocsClient(sb, 'alice');
    const created = await alice.post(`${base}${V4}/room`, { roomType: 3, roomName: 'Public <b>talk</b>' });
    t.equal(created.status, 201, 'served under the mount prefix');
    const token: string = created.data.token;

    t.test('the OpenAPI document of every talk route is valid and names Talk\'s paths', async (t) => {
      const doc = sb.kernel.openapi({ title: 'talk' });
      const result = await new Validator().validate(doc as never);
      t.equal(result.valid, true, JSON.stringify(result.errors ?? '').slice(0, 500));
      for (const p of ['/nc/ocs/v2.php/apps/spreed/api/v1/bot/admin', '/nc/ocs/v2.php/apps/spreed/api/v1/bot/{token}/{botId}', '/nc/ocs/v2.php/apps/spreed/api/v1/bot/{token}/message', '/nc/ocs/v2.php/apps/spreed/api/v4/room/{token}/participants', '/nc/ocs/v2.php/apps/spreed/api/v1/chat/{token}']) {
        t.ok(doc.paths[p], p);
      }
      t.same(Object.keys(doc.paths['/nc/ocs/v2.php/apps/spreed/api/v1/bot/{token}/{botId}']).sort(), ['delete', 'post']);
    });

    t.test('format: ?format= wins, then Accept, else XML', async (t) => {
      const auth = { Authorization: basic('alice'), 'OCS-APIRequest': 'true' };
      const byQuery = await raw(`${V4}/room/${token}?format=json`, { headers: { ...auth, Accept: 'application/xml' } });
      t.equal(byQuery.headers.get('content-type'), 'application/json; charset=utf-8');
      const byAccept = await raw(`${V4}/room/${token}`, { headers: { ...auth, Accept: 'application/json' } });
      t.equal(byAccept.headers.get('content-type'), 'application/json; charset=utf-8');
      const text = await byAccept.text();
      t.ok(text.includes('Public \\u003Cb\\u003Etalk\\u003C/b\\u003E'), 'JSON escapes < and > like PHP JSON_HEX_TAG');
      t.equal(JSON.parse(text).ocs.data.name, 'Public <b>talk</b>');
      const xmlDefault = await raw(`${V4}/room/${token}`, { headers: auth });
      t.equal(xmlDefault.headers.get('content-type'), 'application/xml; charset=utf-8');
      const xml = new XMLParser().parse(await xmlDefault.text());
      t.equal(xml.ocs.meta.statuscode, 200);
      t.equal(xml.ocs.data.token, token);
      const xmlQuery = await raw(`${V4}/room/${token}?format=xml`, { headers: { ...auth, Accept: 'application/json' } });
      t.equal(xmlQuery.headers.get('content-type'), 'application/xml; charset=utf-8');
      const list = new XMLParser().parse(await (await raw(`${V4}/room/${token}/participants`, { headers: auth })).text());
      t.equal(list.ocs.data.element.actorId, 'alice', 'list items are <element>');
    });

    t.test('not logged in: HTTP 401, statuscode 997, before the CSRF check', async (t) => {
      for (const headers of [{ Accept: 'application/json' }, { Accept: 'application/json', 'OCS-APIRequest': 'true' }, { Accept: 'application/json', Authorization: 'Basic YWxpY2U6d3Jvbmc=' }] as Array<Record<string, string>>) {
        const res = await raw(`${V1}/bot/admin`, { headers });
        t.equal(res.status, 401);
        t.same(await res.json(), { ocs: { meta: { status: 'failure', statuscode: 997, message: 'Current user is not logged in' }, data: [] } });
      }
    });

    t.test('not an admin: 403 before the CSRF check; admins then need the header', async (t) => {
      const noHeader = await raw(`${V1}/bot/admin?format=json`, { headers: { Authorization: basic('alice') } });
      t.equal(noHeader.status, 403);
      t.same(((await noHeader.json()) as any).ocs.meta, { status: 'failure', statuscode: 403, message: 'Logged in account must be an admin' });
      const admin = await raw(`${V1}/bot/admin?format=json`, { headers: { Authorization: basic('root') } });
      t.equal(admin.status, 412);
      t.equal(admin.headers.get('content-type'), 'application/json; charset=utf-8');
      t.equal(await admin.text(), '{"message":"CSRF check failed"}');
      const bearerPasses = await raw(`${V1}/bot/${token}/message?format=json`, { method: 'POST', headers: { Authorization: 'Bearer anything', 'Content-Type': 'application/json' }, body: '{"message":"hi"}' });
      t.equal(bearerPasses.status, 400, 'Bearer-authenticated requests pass the CSRF rule (then: no signature headers)');
    });

    t.test('unknown routes, parameter patterns and wrong methods', async (t) => {
      const unknown = await alice.get(`${base}${V1}/nothing/here`);
      t.equal(unknown.status, 404);
      t.same(unknown.body, { ocs: { meta: { status: 'failure', statuscode: 404, message: INVALID_QUERY_MESSAGE }, data: [] } });
      for (const p of [`${V1}/bot/AB`, `${V1}/bot/UPPERCASE`, `${V1}/bot/${'a'.repeat(31)}`, `${V1}/bot/${token}/x1`, `${V1}/chat/ab`]) {
        const res = await alice.get(`${base}${p}`);
        t.equal(res.status, 404, `${p} does not match Talk's patterns`);
        t.equal(res.body.ocs.meta.message, INVALID_QUERY_MESSAGE);
      }
      const anonymous = await raw(`${V1}/bot/NOT-A-TOKEN?format=json`);
      t.equal(anonymous.status, 404, 'route requirements come before login, as in Nextcloud\'s router');
      const badBotId = await alice.post(`${base}${V1}/bot/${token}/abc`);
      t.equal(badBotId.status, 404);
      const wrongMethod = await sb.fetch(`${base}${V1}/bot/admin`, { method: 'PUT', headers: { Authorization: basic('root'), 'OCS-APIRequest': 'true' } });
      t.equal(wrongMethod.status, 405);
      t.equal(await wrongMethod.text(), '');
      const outside = await sb.fetch(`${V1}/bot/admin`, { headers: { Authorization: basic('root'), 'OCS-APIRequest': 'true' } });
      t.equal(outside.status, 404, 'nothing is served at the native path when mounted');
      t.not(outside.headers.get('content-type'), 'application/xml; charset=utf-8');
    });

    t.test('bad input: a clear 400 in the OCS envelope, nothing changes, no stack trace', async (t) => {
      const badJson = await raw(`${V4}/room?format=json`, { method: 'POST', headers: { Authorization: basic('alice'), 'OCS-APIRequest': 'true', 'Content-Type': 'application/json' }, body: '{"roomType": 2, "roomName": ' });
      t.equal(badJson.status, 400);
      const body = (await badJson.json()) as any;
      t.equal(body.ocs.meta.status, 'failure');
      t.equal(body.ocs.meta.message, 'Request body is not valid JSON');
      const badType = await alice.post(`${base}${V4}/room`, { roomType: 'group', roomName: 'x' });
      t.equal(badType.status, 400);
      t.notOk(JSON.stringify(badType.body).includes('at '), 'no stack');
      t.same((await alice.post(`${base}${V4}/room`, { roomType: 7, roomName: 'x' })).data, { error: 'type' });
      t.same((await alice.post(`${base}${V4}/room`, { roomType: 2, roomName: '   ' })).data, { error: 'name' });
      t.same((await alice.post(`${base}${V4}/room`, { roomType: 2, roomName: 'x', invite: 'admins' })).data, { error: 'invite' });
      const rooms = await alice.get(`${base}${V4}/room`);
      t.equal(rooms.data.length, 1, 'no room was created by bad requests');
      const noLook = await alice.get(`${base}${V1}/chat/${token}`);
      t.equal(noLook.status, 400);
      t.match(noLook.body.ocs.meta.message, /lookIntoFuture/);
    });

    t.test('form-encoded parameters and parameters in the query work like JSON', async (t) => {
      const form = await raw(`${V1}/chat/${token}?format=json`, {
        method: 'POST',
        headers: { Authorization: basic('alice'), 'OCS-APIRequest': 'true', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'message=from+a+form&silent=1',
      });
      t.equal(form.status, 201);
      const posted = ((await form.json()) as any).ocs.data;
      t.match(posted, { message: 'from a form', silent: true });
      const viaQuery = await raw(`${V1}/chat/${token}?format=json&message=in+the+query&replyTo=${posted.id}`, { method: 'POST', headers: { Authorization: basic('alice'), 'OCS-APIRequest': 'true' } });
      t.equal(viaQuery.status, 201);
      t.match(((await viaQuery.json()) as any).ocs.data, { message: 'in the query', parent: { id: posted.id } });
    });
  });
}
