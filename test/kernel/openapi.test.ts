import t from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { definePlugin, Type, bearerToken, textResponder } from '../../src/index.js';
import { startTestKernel } from '../../src/testing/index.js';

const items = definePlugin({
  id: 'items',
  version: '2.0.0',
  init(ctx) {
    ctx.routes.defaults({ responder: textResponder() });
    ctx.routes.add({
      method: 'GET',
      path: '/items/:id',
      summary: 'Get an item',
      params: Type.Object({ id: Type.Integer() }),
      query: Type.Object({ refs: Type.Optional(Type.String()) }),
      responses: { 200: Type.Object({ id: Type.String() }), 404: { description: 'Not found', schema: Type.String(), contentType: 'text/plain' } },
      handler: () => ({ id: '1' }),
    });
    ctx.routes.add({
      method: ['POST', 'PUT'],
      path: '/items',
      body: Type.Object({ name: Type.String() }),
      auth: bearerToken({ verify: () => null, scopes: ['write'] }),
      handler: () => 'ok',
    });
    ctx.routes.add({ method: 'GET', path: '/hidden', hidden: true, handler: () => 'x' });
  },
});

t.test('the merged OpenAPI document is valid 3.1 and follows the declarations', async (t) => {
  const sb = await startTestKernel({ plugins: [items, { plugin: { ...items, id: 'items2' }, mount: '/copy' }] });
  t.teardown(sb.close);
  const doc = sb.kernel.openapi({ title: 'Test API' });
  const result = await new Validator().validate(doc as never);
  t.same(result.errors, undefined, 'no schema errors');
  t.ok(result.valid);
  t.equal(doc.openapi, '3.1.0');
  t.ok(doc.paths['/items/{id}'].get);
  t.ok(doc.paths['/copy/items/{id}'].get, 'mount prefixes applied');
  t.ok(doc.paths['/items'].post && doc.paths['/items'].put);
  t.notOk(doc.paths['/hidden'], 'hidden routes left out');
  const op = doc.paths['/items'].post as { security: Array<Record<string, string[]>> };
  t.same(op.security, [{ items_bearer: ['write'] }]);
  t.same(doc.components.securitySchemes.items_bearer, { type: 'http', scheme: 'bearer' });
  const get = doc.paths['/items/{id}'].get as { parameters: Array<{ name: string; in: string }> };
  t.same(get.parameters.map((p) => `${p.in}:${p.name}`), ['path:id', 'query:refs']);
});
