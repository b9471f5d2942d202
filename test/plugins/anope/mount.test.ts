/**
 * Mounted under a prefix, every route answers there (and only there), and the OpenAPI
 * document describes the routes with their plain-text errors and bearer auth.
 */
import t from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { databaseKinds } from '../../../src/testing/index.js';
import { startAnope } from './fixtures/helpers.js';

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const token = 'mounted-token-0123456789';
    const sb = await startAnope(kind, { auth: { token } }, { mount: '/irc/anope' });
    t.teardown(sb.close);
    const auth = { authorization: `Bearer ${token}` };

    t.test('every route works under the prefix', async (t) => {
      t.equal((await sb.get('/rest/types', auth)).status, 200);
      const id = (await sb.post('/rest/account', '{"display": "Mounted"}', auth)).text;
      t.match(id, /^\d+$/);
      const entry = (await sb.post('/rest/nsaccess', JSON.stringify({ account: `account:${id}`, mask: 'm' }), auth)).text;
      t.equal(JSON.parse((await sb.get(`/rest/account/${id}`, auth)).text).display, 'Mounted');
      t.equal(JSON.parse((await sb.get('/rest/account/display/mounted', auth)).text).id, id);
      t.equal(JSON.parse((await sb.get(`/rest/account/${id}?refs=nsaccess`, auth)).text).account[0].id, entry);
      t.equal((await sb.put(`/rest/account/${id}/email`, 'm@example.org', auth)).status, 200);
      t.equal(JSON.parse((await sb.get('/rest/account', auth)).text).account.length, 1);
      t.equal((await sb.del(`/rest/account/${id}`, auth)).status, 200);
      t.equal((await sb.get(`/rest/nsaccess/${entry}`, auth)).text, 'Not found');
      t.equal((await sb.get('/rest/x/y/z/w', auth)).text, 'Not found', 'unknown paths under the prefix get the family 404');
      const native = await sb.fetch('/rest/types', { headers: auth });
      t.equal(native.status, 404);
      t.not(await native.text(), 'Not found', 'the native path is not served when mounted elsewhere');
    });

    t.test('the OpenAPI document', async (t) => {
      const doc = sb.kernel.openapi({ title: 'test' });
      const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/irc/anope/'));
      t.same(paths.sort(), ['/irc/anope/rest/types', '/irc/anope/rest/{type}', '/irc/anope/rest/{type}/{field_or_id}/{value_or_field}', '/irc/anope/rest/{type}/{id}'].sort());
      const get = doc.paths['/irc/anope/rest/{type}/{id}'].get as { responses: Record<string, { content?: Record<string, unknown> }>; security: unknown[] };
      t.ok(get.responses['404'].content?.['text/plain'], 'errors are documented as plain text');
      t.same(get.security, [{ anope_bearer: [] }]);
      t.same(doc.components.securitySchemes.anope_bearer, { type: 'http', scheme: 'bearer' });
      const validator = new Validator();
      const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
      t.ok(result.valid, JSON.stringify(result.errors));
    });
  });
}
