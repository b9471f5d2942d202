/**
 * References and deletes: the database's own foreign keys cascade or null, recursively and
 * in one statement, and no id is left behind in the global id table.
 */
import t from 'tap';
import type { Knex } from 'knex';
import sqlite3 from 'sqlite3';
import { databaseKinds } from '../../../src/testing/index.js';
import { AnopeNames } from '../../../plugins/anope/index.js';
import { startAnope, type AnopeKernel } from './fixtures/helpers.js';

const names = new AnopeNames('anope_');

/** Ids in the global table without a row in their type's table, or rows without an id. */
async function orphans(db: Knex, sb: AnopeKernel): Promise<number> {
  let n = 0;
  for (const type of sb.store.registry.names()) {
    const [a] = await db(names.objects).where('type', type).whereNotIn('id', db(names.table(type)).select('id')).count({ n: '*' });
    const [b] = await db(names.table(type)).whereNotIn('id', db(names.objects).where('type', type).select('id')).count({ n: '*' });
    n += Number(a.n) + Number(b.n);
  }
  return n;
}

/** Sets SQLite's trigger depth limit on the (one) pooled connection. */
async function sqliteTriggerDepth(db: Knex, limit: number): Promise<void> {
  const conn = (await db.client.acquireConnection()) as { configure(option: 'limit', id: number, value: number): void };
  try {
    conn.configure('limit', sqlite3.LIMIT_TRIGGER_DEPTH, limit);
  } finally {
    await db.client.releaseConnection(conn);
  }
}

const hostTypes = [
  { name: 'node', fields: ['label', { name: 'parent', ref: 'node', onDelete: 'cascade' }] },
  { name: 'pair', fields: ['label', { name: 'other', ref: 'pair', onDelete: 'cascade' }] },
  { name: 'tag', fields: ['label', { name: 'on', ref: '*', onDelete: 'cascade' }] },
];

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startAnope(kind, { types: hostTypes });
    t.teardown(sb.close);
    const db = sb.kernel.context('anope').db;
    const get = async (path: string) => {
      const res = await sb.get(path);
      return res.status === 200 ? (JSON.parse(res.text) as Record<string, string>) : res.status;
    };

    t.test('deleting an account cascades to its access entries, memos (three levels) and vhost; channels and nicks lose the reference', async (t) => {
      const adam = await sb.create('account', { display: 'Adam' });
      const keep = await sb.create('account', { display: 'Keep' });
      const n1 = await sb.create('nsaccess', { account: `account:${adam}`, mask: 'a@*' });
      const n2 = await sb.create('nsaccess', { account: `account:${adam}`, mask: 'b@*' });
      const nKeep = await sb.create('nsaccess', { account: `account:${keep}`, mask: 'k@*' });
      const chan = await sb.create('channel', { name: '#anope', founder: `account:${adam}`, successor: `account:${adam}` });
      const chan2 = await sb.create('channel', { name: '#keep', founder: `account:${keep}`, successor: `account:${adam}` });
      const akick = await sb.create('akick', { ci: `channel:${chan2}`, nc: `account:${adam}`, mask: 'x' });
      const nick = await sb.create('nick', { nick: 'Adam', nc: `account:${adam}` });
      const mi = await sb.create('memoinfo', { owner: `account:${adam}`, memomax: '20' });
      const memo = await sb.create('memo', { mi: `memoinfo:${mi}`, text: 'hi', sender: 'Keep' });
      const ignore = await sb.create('memoignore', { mi: `memoinfo:${mi}`, mask: 'spam' });
      const vhost = await sb.create('vhost', { owner: `account:${adam}`, vhost: 'adam.example' });
      const chanMi = await sb.create('memoinfo', { owner: `channel:${chan}` });

      t.same(await get(`/rest/account/${adam}?refs=channel`), {
        account: [
          { name: '#anope', founder: `account:${adam}`, successor: `account:${adam}`, id: chan },
          { name: '#keep', founder: `account:${keep}`, successor: `account:${adam}`, id: chan2 },
        ],
      }, 'refs looks through every reference field, each object once');
      t.same(await get(`/rest/account/${adam}?refs=memoinfo`), { account: [{ owner: `account:${adam}`, memomax: '20', id: mi }] }, 'refs through an "any" reference');
      t.same(await get(`/rest/channel/${chan}?refs=memoinfo`), { channel: [{ owner: `channel:${chan}`, id: chanMi }] });

      const res = await sb.del(`/rest/account/${adam}`);
      t.equal(res.status, 200);
      for (const [type, id] of [['nsaccess', n1], ['nsaccess', n2], ['akick', akick], ['memoinfo', mi], ['memo', memo], ['memoignore', ignore], ['vhost', vhost]]) {
        t.equal(await get(`/rest/${type}/${id}`), 404, `${type} ${id} went with the account`);
      }
      t.same(await get(`/rest/channel/${chan}`), { name: '#anope', id: chan }, 'founder and successor are nulled');
      t.same(await get(`/rest/channel/${chan2}`), { name: '#keep', founder: `account:${keep}`, id: chan2 });
      t.same(await get(`/rest/nick/${nick}`), { nick: 'Adam', id: nick }, 'the nick survives without its account');
      t.same(await get(`/rest/nsaccess/${nKeep}`), { account: `account:${keep}`, mask: 'k@*', id: nKeep }, 'other accounts are untouched');
      t.same(await get(`/rest/memoinfo/${chanMi}`), { owner: `channel:${chan}`, id: chanMi });
      const [{ n }] = await db(names.objects).whereIn('id', [adam, n1, n2, akick, mi, memo, ignore, vhost].map(Number)).count({ n: '*' });
      t.equal(Number(n), 0, 'every deleted id left the global id table');
      t.equal(await orphans(db, sb), 0);

      t.equal((await sb.del(`/rest/channel/${chan}`)).status, 200);
      t.equal(await get(`/rest/memoinfo/${chanMi}`), 404, 'an "any" reference to a channel cascades too');
    });

    t.test('a recursive cascade through objects of the same type (50 levels) and a cycle', async (t) => {
      let parent = await sb.create('node', { label: 'root' });
      const root = parent;
      const all = [root];
      for (let i = 1; i < 50; i++) {
        parent = await sb.create('node', { label: `n${i}`, parent: `node:${parent}` });
        all.push(parent);
      }
      const side = await sb.create('node', { label: 'side', parent: `node:${all[10]}` });
      t.equal((await sb.del(`/rest/node/${root}`)).status, 200);
      t.equal(await sb.store.count('node'), 0);
      t.equal(await get(`/rest/node/${side}`), 404);
      const [{ n }] = await db(names.objects).where('type', 'node').count({ n: '*' });
      t.equal(Number(n), 0, 'no id of a cascaded node is left behind');

      // Through "any" references: each cascaded tag's id removal cascades to the next tag.
      const owner = await sb.create('account', { display: 'TagOwner' });
      let on = `account:${owner}`;
      const tags: string[] = [];
      for (let i = 0; i < 20; i++) {
        const tag = await sb.create('tag', { label: `t${i}`, on });
        tags.push(tag);
        on = `tag:${tag}`;
      }
      t.same(await get(`/rest/tag/${tags[5]}`), { label: 't5', on: `tag:${tags[4]}`, id: tags[5] });
      t.equal((await sb.del(`/rest/account/${owner}`)).status, 200);
      t.equal(await sb.store.count('tag'), 0, 'every tag in the chain went');
      const [{ n: left }] = await db(names.objects).where('type', 'tag').count({ n: '*' });
      t.equal(Number(left), 0, 'no id of a cascaded tag is left behind');

      const a = await sb.create('pair', { label: 'a' });
      const b = await sb.create('pair', { label: 'b', other: `pair:${a}` });
      t.equal((await sb.put(`/rest/pair/${a}/other`, `pair:${b}`)).status, 200);
      t.equal((await sb.del(`/rest/pair/${b}`)).status, 200);
      t.equal(await get(`/rest/pair/${a}`), 404, 'both sides of a cycle go');
      t.equal(await orphans(db, sb), 0);
    });

    t.test('the foreign keys are real: a delete in SQL alone cascades and nulls', async (t) => {
      const acc = await sb.create('account', { display: 'Sql' });
      const entry = await sb.create('nsaccess', { account: `account:${acc}`, mask: 'm' });
      const chan = await sb.create('channel', { name: '#sql', founder: `account:${acc}` });
      await db(names.table('account')).where('id', Number(acc)).del();
      t.equal(await get(`/rest/nsaccess/${entry}`), 404);
      t.same(await get(`/rest/channel/${chan}`), { name: '#sql', id: chan });
      t.equal(await orphans(db, sb), 0, 'the trigger removed the ids');
      await t.rejects(db(names.table('nsaccess')).insert({ id: 999999, account: 1 }), 'a row needs its id in the global table');
      if (kind === 'postgres') {
        const rules = await db('information_schema.referential_constraints as r')
          .join('information_schema.key_column_usage as k', 'k.constraint_name', 'r.constraint_name')
          .whereIn('k.table_name', [names.table('nsaccess'), names.table('channel')])
          .select('k.table_name', 'k.column_name', 'r.delete_rule')
          .orderBy(['k.table_name', 'k.column_name']);
        t.same(
          rules.map((r) => `${r.table_name}.${r.column_name} ${r.delete_rule}`),
          ['anope_obj_channel.bi SET NULL', 'anope_obj_channel.founder SET NULL', 'anope_obj_channel.id CASCADE', 'anope_obj_channel.successor SET NULL', 'anope_obj_nsaccess.account CASCADE', 'anope_obj_nsaccess.id CASCADE'],
        );
      } else {
        const fks = (await db.raw(`SELECT "from", "table", on_delete FROM pragma_foreign_key_list('${names.table('nsaccess')}') ORDER BY "from"`)) as Array<Record<string, string>>;
        t.same(fks.map((f) => `${f.from} -> ${f.table} ${f.on_delete}`), ['account -> anope_obj_account CASCADE', 'id -> anope_objects CASCADE']);
        const any = (await db.raw(`SELECT "from", "table", on_delete FROM pragma_foreign_key_list('${names.table('vhost')}') ORDER BY "from"`)) as Array<Record<string, string>>;
        t.same(any.map((f) => `${f.from} -> ${f.table} ${f.on_delete}`), ['id -> anope_objects CASCADE', 'owner -> anope_objects CASCADE'], '"any" references point at the global id table');
      }
    });

    t.test('a cascade nested deeper than the database allows is refused and changes nothing', async (t) => {
      const owner = Number(await sb.create('account', { display: 'DeepOwner' }));
      const base = 5_000_000;
      // PostgreSQL runs out of stack; SQLite stops at its trigger depth limit (1000, a few
      // levels per hop), which this test lowers to 30 so that it need not build 500 levels.
      const depth = kind === 'sqlite' ? 40 : 1200;
      if (kind === 'sqlite') await sqliteTriggerDepth(db, 30);
      t.teardown(() => (kind === 'sqlite' ? sqliteTriggerDepth(db, 1000) : undefined));
      const ids = Array.from({ length: depth }, (_, i) => base + i);
      for (let i = 0; i < depth; i += 200) {
        const chunk = ids.slice(i, i + 200);
        await db(names.objects).insert(chunk.map((id) => ({ id, type: 'tag' })));
        await db(names.table('tag')).insert(chunk.map((id) => ({ id, label: 'deep', on: id === base ? owner : id - 1 })));
      }
      const res = await sb.del(`/rest/account/${owner}`);
      t.equal(res.status, 409);
      t.equal(res.text, 'Unable to delete: the cascade is nested too deeply for the database; delete the innermost objects first');
      t.equal((await sb.get(`/rest/account/${owner}`)).status, 200, 'the account is still there');
      t.equal(await sb.store.count('tag'), depth, 'and every tag');
      t.equal((await sb.del(`/rest/tag/${base + depth - 5}`)).status, 200, 'a shallower cascade works');
      t.equal(await sb.store.count('tag'), depth - 5);
    });

    t.test('ids are global across types and never reused', async (t) => {
      const a = Number(await sb.create('account', { display: 'X' }));
      const b = Number(await sb.create('botinfo', { nick: 'Y' }));
      t.ok(b > a);
      t.equal((await sb.del(`/rest/botinfo/${b}`)).status, 200);
      const c = Number(await sb.create('botinfo', { nick: 'Z' }));
      t.ok(c > b, 'a deleted id is not handed out again');
      t.equal(await get(`/rest/account/${b}`), 404);
    });
  });
}
