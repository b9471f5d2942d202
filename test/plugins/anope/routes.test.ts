/**
 * Every route and every error of the notes, on SQLite and PostgreSQL: statuses, plain-string
 * bodies, content types, and that a refused request changes nothing.
 */
import t, { type Test } from 'tap';
import { databaseKinds } from '../../../src/testing/index.js';
import { startAnope, type Answer } from './fixtures/helpers.js';

function isText(t: Test, res: Answer, status: number, body: string): void {
  t.equal(res.status, status, `status ${status} for ${body}`);
  t.equal(res.text, body);
  t.match(res.headers.get('content-type'), /^text\/plain/);
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startAnope(kind);
    t.teardown(sb.close);
    const account = await sb.create('account', { display: 'Adam', email: 'adam@sigterm.info' });
    const nsaccess = await sb.create('nsaccess', { account: `account:${account}`, mask: 'adam@*' });
    const botinfo = await sb.create('botinfo', { nick: 'ChanServ', user: 'services' });

    t.test('unknown type: 404 `Unknown type` on every route', async (t) => {
      isText(t, await sb.get('/rest/nosuch'), 404, 'Unknown type');
      isText(t, await sb.get('/rest/nosuch/1'), 404, 'Unknown type');
      isText(t, await sb.get('/rest/nosuch/1?refs=account'), 404, 'Unknown type');
      isText(t, await sb.get('/rest/nosuch/display/x'), 404, 'Unknown type');
      isText(t, await sb.put('/rest/nosuch/1/display', 'x'), 404, 'Unknown type');
      isText(t, await sb.put('/rest/nosuch/1', 'x'), 404, 'Unknown type');
      isText(t, await sb.put('/rest/nosuch', 'x'), 404, 'Unknown type');
      isText(t, await sb.post('/rest/nosuch', '{}'), 404, 'Unknown type');
      isText(t, await sb.del('/rest/nosuch/1'), 404, 'Unknown type');
      isText(t, await sb.del('/rest/nosuch'), 404, 'Unknown type');
      isText(t, await sb.get('/rest/Account'), 404, 'Unknown type');
    });

    t.test('GET /rest/{type}/{id}: the object, `Not found`, `Type/id mismatch`, `Invalid id`', async (t) => {
      const ok = await sb.get(`/rest/account/${account}`);
      t.equal(ok.status, 200);
      t.match(ok.headers.get('content-type'), /^application\/json/);
      t.same(JSON.parse(ok.text), { display: 'Adam', email: 'adam@sigterm.info', id: account });
      t.same(Object.keys(JSON.parse(ok.text)), ['display', 'email', 'id'], 'fields in type order, unset ones left out, id last');
      isText(t, await sb.get('/rest/account/999999'), 404, 'Not found');
      isText(t, await sb.get(`/rest/account/${nsaccess}`), 404, 'Type/id mismatch');
      for (const bad of ['abc', '-1', '1.5', '1e3', '0x10', '99999999999999999999']) isText(t, await sb.get(`/rest/account/${bad}`), 400, 'Invalid id');
      isText(t, await sb.get('/rest/account/0'), 404, 'Not found');
    });

    t.test('?refs=: referencing objects, `Unknown reference type`, and the object checks', async (t) => {
      const refs = await sb.get(`/rest/account/${account}?refs=nsaccess`);
      t.equal(refs.status, 200);
      t.same(JSON.parse(refs.text), { account: [{ account: `account:${account}`, mask: 'adam@*', id: nsaccess }] });
      const none = await sb.get(`/rest/account/${account}?refs=botinfo`);
      t.equal(none.status, 200);
      t.equal(none.text, '{\n  "account": []\n}', 'a type without references to accounts gives an empty list, written []');
      isText(t, await sb.get(`/rest/account/${account}?refs=nosuch`), 404, 'Unknown reference type');
      isText(t, await sb.get('/rest/account/999999?refs=nsaccess'), 404, 'Not found');
      isText(t, await sb.get(`/rest/account/${nsaccess}?refs=nsaccess`), 404, 'Type/id mismatch');
      isText(t, await sb.get('/rest/account/x?refs=nsaccess'), 400, 'Invalid id');
    });

    t.test('GET /rest/{type}/{field}/{value}: exact search, `No such field`, `Not found`', async (t) => {
      const found = await sb.get('/rest/account/email/adam@sigterm.info');
      t.equal(found.status, 200);
      t.equal(JSON.parse(found.text).id, account);
      isText(t, await sb.get('/rest/account/email/ADAM@sigterm.info'), 404, 'Not found');
      t.equal(JSON.parse((await sb.get('/rest/botinfo/nick/chanserv')).text).id, botinfo, 'bot nicks are names: case-insensitive');
      t.equal(JSON.parse((await sb.get(`/rest/nsaccess/account/account:${account}`)).text).id, nsaccess, 'references are searched as type:id');
      isText(t, await sb.get(`/rest/nsaccess/account/nick:${account}`), 404, 'Not found');
      isText(t, await sb.get('/rest/nsaccess/account/garbage'), 404, 'Not found');
      isText(t, await sb.get('/rest/account/bogus/x'), 404, 'No such field');
      isText(t, await sb.get('/rest/account/id/1'), 404, 'No such field');
      isText(t, await sb.get('/rest/account/display/nobody'), 404, 'Not found');
      t.equal(JSON.parse((await sb.get('/rest/account/display/%41DAM')).text).id, account, 'the value is URL-decoded');
    });

    t.test('PUT /rest/{type}/{id}/{field}: raw body, empty clears, and every refusal', async (t) => {
      const ok = await sb.put(`/rest/account/${account}/language`, 'de_DE.UTF-8', { 'content-type': 'text/plain' });
      t.equal(ok.status, 200);
      t.equal(ok.text, '');
      t.equal(ok.headers.get('content-length'), '0');
      t.equal(ok.headers.get('content-type'), null);
      t.equal(JSON.parse((await sb.get(`/rest/account/${account}`)).text).language, 'de_DE.UTF-8');
      t.equal((await sb.put(`/rest/account/${account}/language`, 'a=b&c=%20d')).status, 200);
      t.equal(JSON.parse((await sb.get(`/rest/account/${account}`)).text).language, 'a=b&c=%20d', 'a form body is not decoded: the raw body is the value');
      t.equal((await sb.request('PUT', `/rest/account/${account}/language`)).status, 200);
      t.equal('language' in JSON.parse((await sb.get(`/rest/account/${account}`)).text), false, 'an empty body clears the field');
      isText(t, await sb.put('/rest/account', 'x'), 400, 'No id and/or field');
      isText(t, await sb.put(`/rest/account/${account}`, 'x'), 400, 'No id and/or field');
      isText(t, await sb.put('/rest/account/abc/email', 'x'), 400, 'Invalid id');
      isText(t, await sb.put(`/rest/account/${nsaccess}/email`, 'x'), 404, 'Type/id mismatch');
      isText(t, await sb.put('/rest/account/999999/email', 'x'), 404, 'Not found');
      isText(t, await sb.put(`/rest/account/${account}/bogus`, 'x'), 400, 'No such field');
      isText(t, await sb.put(`/rest/account/${account}/id`, '5'), 400, 'No such field');
      isText(t, await sb.put(`/rest/account/${account}/email`, 'a\u0000b'), 400, 'Invalid value for field email: it contains a NUL character');
      t.equal(JSON.parse((await sb.get(`/rest/account/${account}`)).text).email, 'adam@sigterm.info', 'refusals changed nothing');
    });

    t.test('PUT of a reference: type:id, checked', async (t) => {
      const other = await sb.create('account', { display: 'Other' });
      t.equal((await sb.put(`/rest/nsaccess/${nsaccess}/account`, `account:${other}`)).status, 200);
      t.equal(JSON.parse((await sb.get(`/rest/nsaccess/${nsaccess}`)).text).account, `account:${other}`);
      isText(t, await sb.put(`/rest/nsaccess/${nsaccess}/account`, other), 400, 'Field account is a reference: write it as type:id');
      isText(t, await sb.put(`/rest/nsaccess/${nsaccess}/account`, 'account:999999'), 400, 'Field account references account:999999, which does not exist');
      isText(t, await sb.put(`/rest/nsaccess/${nsaccess}/account`, `botinfo:${botinfo}`), 400, 'Field account must reference a account, not a botinfo');
      isText(t, await sb.put(`/rest/nsaccess/${nsaccess}/account`, `account:${botinfo}`), 400, `Field account references account:${botinfo}, but object ${botinfo} is a botinfo`);
      t.equal(JSON.parse((await sb.get(`/rest/nsaccess/${nsaccess}`)).text).account, `account:${other}`, 'refused references changed nothing');
      t.equal((await sb.put(`/rest/nsaccess/${nsaccess}/account`, `account:${account}`)).status, 200);
    });

    t.test('POST /rest/{type}: 201 + bare id, value conversion, and every refusal', async (t) => {
      const before = await sb.store.count('account');
      const created = await sb.post('/rest/account', JSON.stringify({ display: 'Num', language: 7, email: null, pass: '' }), { 'content-type': 'application/json' });
      t.equal(created.status, 201);
      t.match(created.text, /^\d+$/);
      t.equal(created.headers.get('content-length'), String(created.text.length));
      t.equal((await sb.get(`/rest/account/${created.text}`)).text, `{\n  "display": "Num",\n  "language": "7",\n  "id": "${created.text}"\n}`, 'numbers become strings; null and "" leave fields unset');
      const flag = await sb.create('botinfo', { nick: 'Bot', operonly: true });
      t.equal(JSON.parse((await sb.get(`/rest/botinfo/${flag}`)).text).operonly, '1', 'booleans are written 1/0');
      const emptyObj = await sb.create('stats', {});
      t.same(JSON.parse((await sb.get(`/rest/stats/${emptyObj}`)).text), { id: emptyObj });
      isText(t, await sb.post('/rest/account', '{"display": "x",'), 400, 'Unable to parse JSON');
      isText(t, await sb.post('/rest/account', ''), 400, 'Unable to parse JSON');
      isText(t, await sb.post('/rest/account', 'display=x'), 400, 'Unable to parse JSON');
      isText(t, await sb.post('/rest/account', '[1,2]'), 400, 'Unable to parse JSON: expected an object');
      isText(t, await sb.post('/rest/account', '"x"'), 400, 'Unable to parse JSON: expected an object');
      isText(t, await sb.post('/rest/account', '{"display": "x", "bogus": "y"}'), 400, 'No such field bogus');
      isText(t, await sb.post('/rest/account', '{"id": "5"}'), 400, 'No such field id');
      isText(t, await sb.post('/rest/account', '{"__proto__": {"x": 1}}'), 400, 'No such field __proto__');
      isText(t, await sb.post('/rest/account', '{"display": {"nested": 1}}'), 400, 'Invalid value for field display: expected a string');
      isText(t, await sb.post('/rest/account', '{"display": [1]}'), 400, 'Invalid value for field display: expected a string');
      isText(t, await sb.post('/rest/nsaccess', `{"account": "${account}"}`), 400, 'Field account is a reference: write it as type:id');
      isText(t, await sb.post('/rest/nsaccess', '{"account": "account:999999"}'), 400, 'Field account references account:999999, which does not exist');
      isText(t, await sb.post('/rest/nsaccess', `{"account": "botinfo:${botinfo}"}`), 400, 'Field account must reference a account, not a botinfo');
      isText(t, await sb.post('/rest/account', `{"display": "${'x'.repeat(1_100_000)}"}`), 413, 'Request body too large');
      t.equal(await sb.store.count('account'), before + 1, 'refused creates created nothing');
    });

    t.test('DELETE /rest/{type}/{id}: empty 200, and every refusal', async (t) => {
      const victim = await sb.create('botinfo', { nick: 'Victim' });
      isText(t, await sb.del('/rest/botinfo'), 400, 'No id');
      isText(t, await sb.del('/rest/botinfo/abc'), 400, 'Invalid id');
      isText(t, await sb.del(`/rest/account/${victim}`), 404, 'Type/id mismatch');
      isText(t, await sb.del('/rest/botinfo/999999'), 404, 'Not found');
      t.equal((await sb.get(`/rest/botinfo/${victim}`)).status, 200, 'refused deletes deleted nothing');
      const ok = await sb.del(`/rest/botinfo/${victim}`);
      t.equal(ok.status, 200);
      t.equal(ok.text, '');
      t.equal(ok.headers.get('content-length'), '0');
      isText(t, await sb.get(`/rest/botinfo/${victim}`), 404, 'Not found');
      isText(t, await sb.del(`/rest/botinfo/${victim}`), 404, 'Not found');
    });

    t.test('GET /rest/{type}: the list, and [] when empty', async (t) => {
      const list = await sb.get('/rest/nsaccess');
      t.equal(list.status, 200);
      t.match(list.headers.get('content-type'), /^application\/json/);
      t.same(JSON.parse(list.text), { nsaccess: [{ account: `account:${account}`, mask: 'adam@*', id: nsaccess }] });
      const emptyList = await sb.get('/rest/forbid');
      t.equal(emptyList.text, '{\n  "forbid": []\n}');
    });

    t.test('OPTIONS answers Allow, HEAD answers like GET without a body, other methods 405', async (t) => {
      const opt = await sb.request('OPTIONS', `/rest/account/${account}`);
      t.equal(opt.status, 204);
      t.equal(opt.headers.get('allow'), 'GET, HEAD, DELETE, OPTIONS');
      t.equal((await sb.request('OPTIONS', '/rest/types')).headers.get('allow'), 'GET, HEAD, OPTIONS');
      t.equal((await sb.request('OPTIONS', '/rest/account')).headers.get('allow'), 'GET, HEAD, POST, OPTIONS');
      t.equal((await sb.request('OPTIONS', `/rest/account/${account}/email`)).headers.get('allow'), 'GET, HEAD, PUT, OPTIONS');
      const head = await sb.request('HEAD', `/rest/account/${account}`);
      t.equal(head.status, 200);
      t.equal(head.text, '');
      t.match(head.headers.get('content-type'), /^application\/json/);
      const headList = await sb.request('HEAD', '/rest/account');
      t.equal(headList.status, 200);
      t.equal(headList.text, '');
      isText(t, await sb.request('HEAD', '/rest/account/999999'), 404, '');
      const patch = await sb.request('PATCH', `/rest/account/${account}`, 'x');
      isText(t, patch, 405, 'Method Not Allowed');
      t.match(patch.headers.get('allow'), /GET/);
    });

    t.test('changes are announced on the event bus', async (t) => {
      const seen: string[] = [];
      const off = [
        sb.kernel.events.on('anope.object.created', (e) => void seen.push(`created ${e.type} ${e.id}`)),
        sb.kernel.events.on('anope.object.updated', (e) => void seen.push(`updated ${e.type} ${e.id} ${e.field}`)),
        sb.kernel.events.on('anope.object.deleted', (e) => void seen.push(`deleted ${e.type} ${e.id}`)),
      ];
      t.teardown(() => off.forEach((f) => f()));
      const id = await sb.create('newsitem', { text: 'hello' });
      await sb.put(`/rest/newsitem/${id}/text`, 'bye');
      await sb.put(`/rest/newsitem/${id}/bogus`, 'refused');
      await sb.del(`/rest/newsitem/${id}`);
      t.same(seen, [`created newsitem ${id}`, `updated newsitem ${id} text`, `deleted newsitem ${id}`], 'refused changes announce nothing');
    });

    t.test('unknown paths under /rest: 404 plain string', async (t) => {
      isText(t, await sb.get('/rest/account/1/email/extra'), 404, 'Not found');
      isText(t, await sb.get('/rest'), 404, 'Not found');
    });
  });
}
