import t from 'tap';
import fs from 'node:fs';
import { Command } from 'commander';
import { addPluginCommands, Kernel } from '../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { notesPlugin } from '../../examples/notes-plugin/index.js';

const config = { token: 'notes-writer-token' };

t.test('the guide shows the example plugin as it is', async (t) => {
  const guide = fs.readFileSync('docs/writing-a-plugin.md', 'utf8');
  const source = fs.readFileSync('examples/notes-plugin/index.ts', 'utf8');
  // Every code block of the guide that claims to come from the example must be in it verbatim.
  const blocks = [...guide.matchAll(/```ts file=examples\/notes-plugin\/index\.ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  t.ok(blocks.length >= 5, 'the guide quotes the example in several steps');
  for (const block of blocks) t.ok(source.includes(block), `quoted verbatim: ${block.split('\n')[0]}`);
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: the example plugin works as the guide says`, async (t) => {
    const sb = await startTestKernel({ database: kind, plugins: [{ plugin: notesPlugin, config }] });
    t.teardown(sb.close);
    const created: unknown[] = [];
    sb.kernel.events.on('notes.created', (e) => void created.push(e));
    const post = (body: unknown, token?: string) =>
      sb.fetch('/notes', { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

    t.equal((await post({ title: 'a', body: 'b' })).status, 401);
    t.equal((await post({ title: 'a', body: 'b' }, 'wrong-token')).status, 401);
    const bad = await post({ title: '', body: 'b' }, config.token);
    t.equal(bad.status, 400);
    t.match(await bad.json(), { error: /body\/title must not have fewer than 1 characters/ });
    const res = await post({ title: 'Groceries', body: 'milk' }, config.token);
    t.equal(res.status, 201);
    const { id } = (await res.json()) as { id: number };
    t.same(created, [{ id, title: 'Groceries' }]);
    t.same(await (await sb.fetch(`/notes/${id}`)).json(), { id, title: 'Groceries', body: 'milk' });
    t.equal((await sb.fetch('/notes/999')).status, 404);
    t.equal((await sb.fetch('/notes/abc')).status, 400);
    t.equal((await sb.fetch('/notes/1', { method: 'DELETE' })).status, 405);
    t.ok(sb.kernel.openapi().paths['/notes/{id}'], 'documented in OpenAPI');
  });
}

t.test('the example CLI command counts notes', async (t) => {
  const db = await createTestDatabase('sqlite');
  t.teardown(db.drop);
  const seed = new Kernel({ database: db.url, logger: { level: 'silent' }, plugins: [{ plugin: notesPlugin, config }] });
  await seed.prepare('cli');
  await seed.db('notes_note').insert([{ title: 'x', body: '' }, { title: 'y', body: '' }]);
  await seed.stop();
  const lines: string[] = [];
  const codes: number[] = [];
  const program = new Command().exitOverride();
  addPluginCommands(program, {
    plugins: [notesPlugin],
    createKernel: () => new Kernel({ database: db.url, logger: { level: 'silent' }, plugins: [{ plugin: notesPlugin, config }] }),
    output: { out: (l) => void lines.push(l), err: (l) => void lines.push(`ERR ${l}`) },
    setExitCode: (c) => void codes.push(c),
  });
  await program.parseAsync(['notes', 'count'], { from: 'user' });
  t.same(lines, ['2']);
  t.same(codes, [0]);
});
