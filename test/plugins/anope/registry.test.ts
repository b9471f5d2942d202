/**
 * The type registry: types registered by the host (config) and by another plugin (through
 * the provided registry) work on every route with real tables and foreign keys; the schema
 * synchronization is idempotent, additive, safe when two instances start at once, and
 * refuses a changed reference rule.
 */
import t from 'tap';
import { definePlugin, Kernel } from '../../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { AnopeNames, AnopeTypeRegistry, AnopeTypes, anopePlugin, TypeRegistrationError } from '../../../plugins/anope/index.js';
import { startAnope, withShorthands } from './fixtures/helpers.js';

const names = new AnopeNames('anope_');

/** A plugin that adds a type and extends `account`, as an Anope module would. */
const notesPlugin = definePlugin({
  id: 'notes',
  version: '1.0.0',
  dependsOn: ['anope'],
  init(ctx) {
    const registry = ctx.container.resolve<AnopeTypeRegistry>(AnopeTypes);
    registry.register({ name: 'note', fields: [{ name: 'owner', ref: 'account', onDelete: 'cascade' }, { name: 'title', nocase: true }, 'body', { name: 'about', ref: '*' }] }, 'notes');
    registry.extend('account', ['greeting'], 'notes');
  },
});

t.test('registration is checked', async (t) => {
  const r = new AnopeTypeRegistry();
  r.register({ name: 'a', fields: ['x'] });
  const refuse = (fn: () => unknown, message: RegExp) => t.throws(fn, { name: 'TypeRegistrationError', message });
  refuse(() => r.register({ name: 'a', fields: [] }), /already registered/);
  refuse(() => r.register({ name: 'Bad', fields: [] }), /lower-case/);
  refuse(() => r.register({ name: 'types', fields: [] }), /reserved/);
  refuse(() => r.register({ name: 'b', fields: ['id'] }), /'id'/);
  refuse(() => r.register({ name: 'b', fields: ['x', 'x'] }), /declared twice/);
  refuse(() => r.register({ name: 'b', fields: ['bad-name'] }), /lower-case/);
  refuse(() => r.register({ name: 'b', fields: [{ name: 'x', onDelete: 'cascade' }] }), /onDelete needs ref/);
  refuse(() => r.register({ name: 'b', fields: [{ name: 'x', ref: 'a', onDelete: 'drop' as 'null' }] }), /cascade' or 'null/);
  refuse(() => r.register({ name: 'b', fields: [{ name: 'x', ref: 'a', nocase: true }] }), /cannot be nocase/);
  refuse(() => r.extend('zzz', ['y']), /not registered/);
  refuse(() => r.extend('a', ['x']), /declared twice/);
  r.register({ name: 'c', fields: [{ name: 'to', ref: 'missing' }] });
  refuse(() => r.freeze('test'), /references type 'missing'/);
  const ok = new AnopeTypeRegistry();
  ok.register({ name: 'a', fields: [{ name: 'next', ref: 'b' }] });
  ok.register({ name: 'b', fields: [] });
  ok.freeze('test');
  t.ok(ok.frozen, 'forward references are fine');
  refuse(() => ok.register({ name: 'late', fields: [] }), /before the schema is synchronized/);
  t.ok(new TypeRegistrationError('x') instanceof Error);
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: a type registered by another plugin works on every route`, async (t) => {
    const sb = await startAnope(kind, { optionalTypes: ['nscert'], types: [{ name: 'greeting', fields: ['text', { name: 'to', ref: 'account', onDelete: 'null' }] }] }, { plugins: [notesPlugin] });
    t.teardown(sb.close);
    const types = JSON.parse((await sb.get('/rest/types')).text).types as string[];
    t.equal(types.length, 37);
    t.same(types.slice(-3), ['nscert', 'greeting', 'note'], 'listed after the documented types: the optional one, config types, then the plugin\'s');

    const acc = await sb.create('account', { display: 'Host', greeting: 'hello' });
    const cert = await sb.create('nscert', { nc: `account:${acc}`, mask: 'fingerprint' });
    t.same(JSON.parse((await sb.get(`/rest/account/${acc}`)).text), { display: 'Host', greeting: 'hello', id: acc }, 'an extended built-in type has the new field');
    const note = await sb.create('note', { owner: `account:${acc}`, title: 'Shopping', body: 'milk', about: `account:${acc}` });
    const other = await sb.create('note', { owner: `account:${acc}`, title: 'Other', about: `note:${note}` });
    t.same(JSON.parse((await sb.get(`/rest/note/${note}`)).text), { owner: `account:${acc}`, title: 'Shopping', body: 'milk', about: `account:${acc}`, id: note });
    t.equal(JSON.parse((await sb.get('/rest/note/title/shopping')).text).id, note, 'nocase search');
    t.equal(JSON.parse((await sb.get('/rest/note/body/milk')).text).id, note, 'exact search');
    t.equal(JSON.parse((await sb.get(`/rest/note/about/note:${note}`)).text).id, other, 'search by an "any" reference');
    t.equal((await sb.get(`/rest/note/about/account:${note}`)).status, 404, 'the type written must be the object\'s');
    t.equal((await sb.put(`/rest/note/${note}/body`, 'eggs')).status, 200);
    t.same(JSON.parse((await sb.get('/rest/note')).text).note.map((n: { id: string }) => n.id), [note, other]);
    t.same(JSON.parse((await sb.get(`/rest/account/${acc}?refs=note`)).text).account.map((n: { id: string }) => n.id), [note, other]);
    t.same(JSON.parse((await sb.get(`/rest/note/${note}?refs=note`)).text).note.map((n: { id: string }) => n.id), [other]);
    t.equal((await sb.put(`/rest/note/${note}/owner`, `note:${other}`)).text, 'Field owner must reference a account, not a note');
    t.equal((await sb.post('/rest/note', '{"nope": "1"}')).text, 'No such field nope');
    const greet = await sb.create('greeting', { text: 'hi', to: `account:${acc}` });
    t.equal((await sb.del(`/rest/note/${other}`)).status, 200);
    t.equal((await sb.get(`/rest/note/${other}`)).status, 404);
    t.equal((await sb.del(`/rest/account/${acc}`)).status, 200);
    t.equal((await sb.get(`/rest/note/${note}`)).status, 404, 'the cascade reaches the plugin\'s type');
    t.equal((await sb.get(`/rest/nscert/${cert}`)).status, 404, 'and the optional built-in type');
    t.same(JSON.parse((await sb.get(`/rest/greeting/${greet}`)).text), { text: 'hi', id: greet }, 'the config type\'s reference is nulled');
    t.equal((await sb.request('OPTIONS', `/rest/note/${note}`)).status, 204);
    t.throws(() => sb.store.registry.register({ name: 'late', fields: [] }), { name: 'TypeRegistrationError' }, 'too late once started');
  });

  t.test(`${kind}: the schema synchronization survives restarts, adds fields, and refuses a changed rule`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const start = async (types: unknown[]) => {
      const sb = await startTestKernel({ database: db.url, plugins: [{ plugin: anopePlugin, config: { auth: 'none', types } }] });
      return withShorthands(sb);
    };
    const v1 = [{ name: 'item', fields: ['label', { name: 'owner', ref: 'account', onDelete: 'cascade' }] }];
    let sb = await start(v1);
    const acc = await sb.create('account', { display: 'R' });
    const item = await sb.create('item', { label: 'one', owner: `account:${acc}` });
    await sb.close();

    sb = await start(v1);
    t.equal(JSON.parse((await sb.get(`/rest/item/${item}`)).text).label, 'one', 'data survives a restart');
    await sb.close();

    const v2 = [{ name: 'item', fields: ['label', { name: 'owner', ref: 'account', onDelete: 'cascade' }, 'colour', { name: 'holder', ref: '*' }] }];
    sb = await start(v2);
    t.equal((await sb.put(`/rest/item/${item}/colour`, 'red')).status, 200, 'a new field gets a column');
    t.equal((await sb.put(`/rest/item/${item}/holder`, `account:${acc}`)).status, 200, 'a new reference gets its foreign key');
    t.same(JSON.parse((await sb.get(`/rest/item/${item}`)).text), { label: 'one', owner: `account:${acc}`, colour: 'red', holder: `account:${acc}`, id: item });
    await sb.close();

    const changed = [{ name: 'item', fields: ['label', { name: 'owner', ref: 'account', onDelete: 'null' }] }];
    await t.rejects(start(changed), { message: /'item\.owner' is stored as a reference to 'account' \(on delete cascade\) but registered as a reference to 'account' \(on delete null\)/ });
    const plainToRef = [{ name: 'item', fields: [{ name: 'label', ref: 'account' }] }];
    await t.rejects(start(plainToRef), { message: /'item\.label' is stored as a plain field/ });

    sb = await start(v1);
    t.same(JSON.parse((await sb.get(`/rest/item/${item}`)).text), { label: 'one', owner: `account:${acc}`, id: item }, 'a field no longer registered is not served');
    t.equal((await sb.put(`/rest/item/${item}/colour`, 'blue')).text, 'No such field');
    const [row] = await sb.kernel.context('anope').db(names.table('item')).where('id', Number(item)).select('colour');
    t.equal(row.colour, 'red', 'but its column and data stay');
    await sb.close();
  });

  t.test(`${kind}: two instances starting at once on one database`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const types = [{ name: 'shared', fields: ['v', { name: 'acc', ref: 'account', onDelete: 'cascade' }] }];
    const kernel = () => new Kernel({ database: db.url, logger: { level: 'silent' }, plugins: [{ plugin: anopePlugin, config: { auth: 'none', types } }] });
    // The kernel's own migrations race on a database that has no migration table yet (knex
    // creates it before taking its lock: a kernel matter); run them first, then race the
    // anope schema synchronization itself, which a CLI-mode prepare does not run.
    const first = kernel();
    await first.prepare('cli');
    await first.stop();
    const kernels = [kernel(), kernel()];
    t.teardown(() => Promise.all(kernels.map((k) => k.stop())));
    await Promise.all(kernels.map((k) => k.start()));
    const k = kernels[0].db;
    const tables = kind === 'postgres'
      ? await k('information_schema.tables').where('table_schema', k.raw('current_schema()')).pluck('table_name')
      : await k('sqlite_master').where('type', 'table').pluck('name');
    t.equal(tables.filter((n: string) => n.startsWith('anope_obj_')).length, 35, 'each type table exists once');
    const first2 = await kernels[0].db(names.table('shared')).insert({ id: 1 }).catch((e: Error) => e);
    t.type(first2, Error, 'its id foreign key is there');
    const [rec] = await k(names.types).where('name', 'shared').select('fields');
    t.same(JSON.parse(rec.fields), [{ name: 'v' }, { name: 'acc', ref: 'account', onDelete: 'cascade' }]);
  });
}
