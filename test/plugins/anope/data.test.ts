/**
 * Searches that index on first use, streamed lists, and concurrent creates and deletes.
 */
import t from 'tap';
import type { Knex } from 'knex';
import { databaseKinds } from '../../../src/testing/index.js';
import { AnopeNames } from '../../../plugins/anope/index.js';
import { startAnope } from './fixtures/helpers.js';

const names = new AnopeNames('anope_');

async function indexNames(db: Knex, kind: string): Promise<string[]> {
  return kind === 'postgres'
    ? db('pg_indexes').where('schemaname', db.raw('current_schema()')).pluck('indexname')
    : db('sqlite_master').where('type', 'index').pluck('name');
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startAnope(kind, { pageSize: 10 });
    t.teardown(sb.close);
    const db = sb.kernel.context('anope').db;

    t.test('the first search on an unindexed field creates an index; names are indexed from the start', async (t) => {
      const ids = await sb.store.createMany('account', Array.from({ length: 30 }, (_, i) => ({ display: `User${i}`, email: `u${i}@example.org` })));
      const before = await indexNames(db, kind);
      t.ok(before.includes(names.lowerIndex('account', 'display')), 'display (a name) has its lower() index');
      t.ok(before.includes(names.index('nsaccess', 'account')), 'references are indexed');
      t.notOk(before.includes(names.index('account', 'email')), 'email has no index yet');
      const res = await sb.get('/rest/account/email/u7@example.org');
      t.equal(JSON.parse(res.text).id, ids[7]);
      t.ok((await indexNames(db, kind)).includes(names.index('account', 'email')), 'the search created it');
      t.equal(JSON.parse((await sb.get('/rest/account/email/u8@example.org')).text).id, ids[8], 'later searches use it');
      t.equal(JSON.parse((await sb.get('/rest/account/display/USER12')).text).id, ids[12]);
      if (kind === 'sqlite') {
        const plan = (await db.raw(`EXPLAIN QUERY PLAN SELECT id FROM ${names.table('account')} WHERE lower("display") = lower(?)`, ['x'])) as Array<{ detail: string }>;
        t.match(plan.map((p) => p.detail).join(' '), names.lowerIndex('account', 'display'), 'the case-insensitive search uses the index');
      }
      await sb.store.createMany('account', [{ display: 'twin', email: 'first' }, { display: 'TWIN', email: 'second' }]);
      t.equal(JSON.parse((await sb.get('/rest/account/display/Twin')).text).email, 'first', 'several matches: the oldest object');
    });

    t.test('lists stream page by page in the original\'s format', async (t) => {
      const created = await sb.store.createMany('ignore', Array.from({ length: 95 }, (_, i) => ({ mask: `*!*@host${i}`, reason: i % 2 ? 'spam' : '' })));
      const res = await sb.fetch('/rest/ignore');
      t.equal(res.status, 200);
      t.equal(res.headers.get('transfer-encoding'), 'chunked', 'written as it is read');
      const text = await res.text();
      const body = JSON.parse(text) as { ignore: Array<Record<string, string>> };
      t.equal(text, JSON.stringify(body, null, 2), 'two-space indentation, as the documentation shows');
      t.same(body.ignore.map((o) => o.id), created, 'every object once, in id order, across pages');
      t.same(body.ignore[1], { mask: '*!*@host1', reason: 'spam', id: created[1] });
      t.same(body.ignore[0], { mask: '*!*@host0', id: created[0] });

      const acc = await sb.create('account', { display: 'Many' });
      const entries = await sb.store.createMany('nsaccess', Array.from({ length: 25 }, (_, i) => ({ account: `account:${acc}`, mask: `m${i}` })));
      const refs = JSON.parse((await sb.get(`/rest/account/${acc}?refs=nsaccess`)).text) as { account: Array<{ id: string }> };
      t.same(refs.account.map((o) => o.id), entries, 'refs lists stream across pages too');
    });

    t.test('a client that goes away mid-list does not hurt the server', async (t) => {
      await sb.store.createMany('newsitem', Array.from({ length: 200 }, (_, i) => ({ text: `news ${i} ${'x'.repeat(2000)}` })));
      const abort = new AbortController();
      const res = await sb.fetch('/rest/newsitem', { signal: abort.signal });
      const reader = res.body!.getReader();
      await reader.read();
      abort.abort();
      await reader.read().catch(() => undefined);
      for (let i = 0; i < 100 && sb.kernel.activeRequests > 0; i++) await new Promise((r) => setTimeout(r, 20));
      t.equal(sb.kernel.activeRequests, 0, 'the abandoned list stopped (its handler is not left waiting)');
      const again = await sb.get('/rest/newsitem');
      t.equal(JSON.parse(again.text).newsitem.length, 200);
    });

    t.test('many concurrent creates get unique ids', async (t) => {
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) => sb.post(i % 3 === 0 ? '/rest/botinfo' : '/rest/forbid', JSON.stringify(i % 3 === 0 ? { nick: `b${i}` } : { mask: `m${i}` }))),
      );
      t.same(results.map((r) => r.status), results.map(() => 201));
      const ids = results.map((r) => r.text);
      t.equal(new Set(ids).size, ids.length, 'no id twice, across types');
      const [{ n }] = await db(names.objects).whereIn('id', ids.map(Number)).count({ n: '*' });
      t.equal(Number(n), 120);
    });

    t.test('concurrent reads by id (answered in batches) each get their own object or error', async (t) => {
      const ids = await sb.store.createMany('oper', Array.from({ length: 80 }, (_, i) => ({ name: `oper${i}` })));
      const other = await sb.create('forbid', { mask: 'not-an-oper' });
      const paths = [...ids.map((id) => `/rest/oper/${id}`), '/rest/oper/999999', `/rest/oper/${other}`, ...ids.slice(0, 10).map((id) => `/rest/oper/${id}`)];
      const answers = await Promise.all(paths.map((p) => sb.get(p)));
      ids.forEach((id, i) => t.same(JSON.parse(answers[i].text), { name: `oper${i}`, id }, `oper ${id}`));
      t.equal(answers[80].text, 'Not found');
      t.equal(answers[81].text, 'Type/id mismatch');
      t.same(answers.slice(82).map((a) => JSON.parse(a.text).id), ids.slice(0, 10), 'the same id asked twice at once');
    });

    t.test('concurrent searches (answered in batches) each get their own first match or 404', async (t) => {
      const ids = await sb.store.createMany('botinfo', Array.from({ length: 150 }, (_, i) => ({ nick: `Batch${i}`, realname: `real${i % 7}` })));
      const acc = await sb.create('account', { display: 'Referenced' });
      const refs = await sb.store.createMany('nsaccess', Array.from({ length: 5 }, (_, i) => ({ account: `account:${acc}`, mask: `b${i}` })));
      // 150 distinct names (more than one batch holds), in another case; repeated values; misses; a non-unique field; a reference.
      const paths = [
        ...ids.map((_, i) => `/rest/botinfo/nick/BATCH${i}`),
        ...ids.slice(0, 5).map((_, i) => `/rest/botinfo/nick/batch${i}`),
        '/rest/botinfo/nick/nobody',
        ...Array.from({ length: 7 }, (_, i) => `/rest/botinfo/realname/real${i}`),
        '/rest/botinfo/realname/real7',
        `/rest/nsaccess/account/account:${acc}`,
      ];
      const answers = await Promise.all(paths.map((p) => sb.get(p)));
      ids.forEach((id, i) => t.equal(JSON.parse(answers[i].text).id, id, `nick Batch${i}`));
      t.same(answers.slice(150, 155).map((a) => JSON.parse(a.text).id), ids.slice(0, 5), 'the same name asked twice at once, in two cases');
      t.equal(answers[155].status, 404);
      t.equal(answers[155].text, 'Not found');
      t.same(answers.slice(156, 163).map((a) => JSON.parse(a.text).id), ids.slice(0, 7), 'a value many objects share: the oldest');
      t.equal(answers[163].text, 'Not found');
      t.equal(JSON.parse(answers[164].text).id, refs[0], 'a reference: the oldest entry referencing it');
    });

    t.test('creates racing a cascading delete end consistently', async (t) => {
      const acc = await sb.create('account', { display: 'Racer' });
      const creates = Array.from({ length: 40 }, (_, i) => sb.post('/rest/nsaccess', JSON.stringify({ account: `account:${acc}`, mask: `r${i}` })));
      const deleted = sb.del(`/rest/account/${acc}`);
      const results = await Promise.all(creates);
      t.equal((await deleted).status, 200);
      for (const r of results) {
        if (r.status === 201) continue;
        t.equal(r.status, 400, 'a create that lost the race is refused');
        t.match(r.text, /does not exist/);
      }
      const left = await db(names.table('nsaccess')).where('account', Number(acc)).count({ n: '*' });
      t.equal(Number(left[0].n), 0, 'no entry survives its account');
      const [{ n }] = await db(names.objects).where('type', 'nsaccess').whereNotIn('id', db(names.table('nsaccess')).select('id')).count({ n: '*' });
      t.equal(Number(n), 0, 'no dangling id');
    });
  });
}
