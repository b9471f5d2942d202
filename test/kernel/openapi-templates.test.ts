/**
 * OpenAPI 3.1 forbids two paths that differ only in their parameters' names. Routes of that
 * shape share one path template; every document (a kernel's and the standalone server's
 * with every bundled plugin) has no two equal templates, and a `servers` entry.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createStandalone } from '../../examples/standalone/app.js';
import { loadStandaloneConfig } from '../../examples/standalone/config.js';
import { definePlugin, templateShape, Type, type OpenApiDocument } from '../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../src/testing/index.js';

type Operation = { parameters?: Array<{ name: string; in: string; description?: string }> };

/** Every problem of the paths: equal templates, template parameters an operation does not declare. */
function templateProblems(doc: OpenApiDocument): string[] {
  const problems: string[] = [];
  const shapes = new Map<string, string>();
  for (const [p, item] of Object.entries(doc.paths)) {
    const shape = templateShape(p);
    if (shapes.has(shape)) problems.push(`${p} and ${shapes.get(shape)} are the same template`);
    shapes.set(shape, p);
    const names = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item)) {
      const declared = ((op as Operation).parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name);
      if ([...names].sort().join() !== [...declared].sort().join()) problems.push(`${method.toUpperCase()} ${p} declares path parameters ${declared.join(', ')}`);
    }
  }
  return problems;
}

t.test('templateShape names no parameter', async (t) => {
  t.equal(templateShape('/rest/{type}/{field}/{value}'), templateShape('/rest/{type}/{id}/{field}'));
  t.not(templateShape('/rest/{type}/{id}'), templateShape('/rest/{type}/{id}/{field}'));
  t.not(templateShape('/rest/types/{x}'), templateShape('/rest/{type}/{x}'));
});

t.test('routes of one shape share a template; each operation says what its segment is', async (t) => {
  const shaped = definePlugin({
    id: 'shaped',
    version: '1.0.0',
    init(ctx) {
      ctx.routes.add({
        method: 'GET',
        path: '/x/:type/:field/:value',
        params: Type.Object({ type: Type.String(), field: Type.String({ description: 'A field.' }), value: Type.String() }),
        handler: ({ params }) => ({ get: params }),
      });
      ctx.routes.add({
        method: 'PUT',
        path: '/x/:type/:id/:field',
        params: Type.Object({ type: Type.String(), id: Type.String({ description: 'An id.' }), field: Type.String() }),
        accepts: 'text',
        handler: ({ params }) => ({ put: params }),
      });
    },
  });
  const sb = await startTestKernel({ plugins: [shaped] });
  t.teardown(sb.close);
  const doc = sb.kernel.openapi();
  t.same(Object.keys(doc.paths), ['/x/{type}/{field_or_id}/{value_or_field}']);
  const item = doc.paths['/x/{type}/{field_or_id}/{value_or_field}'] as Record<string, Operation>;
  t.same(Object.keys(item).sort(), ['get', 'put']);
  const get = item.get.parameters!.filter((p) => p.in === 'path');
  const put = item.put.parameters!.filter((p) => p.in === 'path');
  t.same(get.map((p) => p.name), ['type', 'field_or_id', 'value_or_field']);
  t.same(put.map((p) => p.name).sort(), ['field_or_id', 'type', 'value_or_field']);
  t.match(get.find((p) => p.name === 'field_or_id')!.description, /^A field\. \(`field` in this operation/);
  t.match(put.find((p) => p.name === 'field_or_id')!.description, /^An id\. \(`id` in this operation/);
  t.same(templateProblems(doc), []);
  t.same(doc.servers, [{ url: '/', description: 'The server this document is served by' }], 'a servers entry by default');
  t.same(sb.kernel.openapi({ servers: [{ url: 'https://api.example.net' }] }).servers, [{ url: 'https://api.example.net' }], 'or the host\'s');
  const result = await new Validator().validate(doc as never);
  t.same(result.errors, undefined);
  // The routes themselves are unchanged: each still reads its own parameters.
  t.same(await (await sb.fetch('/x/account/email/a@b')).json(), { get: { type: 'account', field: 'email', value: 'a@b' } });
  t.same(await (await sb.fetch('/x/account/7/email', { method: 'PUT', body: 'v' })).json(), { put: { type: 'account', id: '7', field: 'email' } });
});

for (const kind of databaseKinds()) {
  t.test(`the standalone document (${kind}): no two equal templates, valid 3.1, servers`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-openapi-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: '', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url });
    const standalone = createStandalone(config, { logger: { level: 'silent' } });
    t.teardown(() => standalone.stop());
    const url = await standalone.start();
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as OpenApiDocument;
    t.same(templateProblems(doc), [], 'every path template is distinct and fully declared');
    t.ok(doc.paths['/rest/{type}/{field_or_id}/{value_or_field}'], "Anope's find and set-field share one template");
    t.same(Object.keys(doc.paths['/rest/{type}/{field_or_id}/{value_or_field}']).sort(), ['get', 'options', 'put']);
    t.same(doc.servers, [
      { url: '/', description: 'The server this document is served by' },
      { url, description: 'Where this server listens' },
    ]);
    const result = await new Validator().validate(doc as never);
    t.same(result.errors, undefined);
    t.ok(result.valid, 'valid OpenAPI 3.1');
  });
}
