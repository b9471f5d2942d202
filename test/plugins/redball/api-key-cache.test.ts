/**
 * The cache of stored API key hashes: a key written behind the server's back (the CLI on
 * SQLite, where no event reaches the server) is accepted within `apiKeyCacheMs`, and under
 * steady traffic the hashes are re-read ahead of expiry (in the background), not when the
 * copy has run out and a request has to wait for the database.
 */
import t from 'tap';
import { hashToken } from '../../../src/index.js';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { ApiKeyStore, redballPlugin } from '../../../plugins/redball/index.js';
import { KEY } from './fixtures/client.js';

const CACHE_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, plugins: [{ plugin: redballPlugin, config: { apiKeys: [KEY], apiKeyCacheMs: CACHE_MS, autoRun: false } }] });
    t.teardown(sb.close);
    const ctx = sb.kernel.context('redball');
    const keys = ctx.container.resolve(ApiKeyStore);
    const table = ctx.table('api_keys');
    const writeBehindTheBack = (key: string) => ctx.db(table).insert({ name: 'cli', key_hash: hashToken(key), created_at: ctx.dialect.toDate(new Date()) });

    await t.test('a key stored by another process is accepted within apiKeyCacheMs', async (t) => {
      const key = 'written-behind-the-back-0001';
      t.equal(await keys.verify(key), null);
      await writeBehindTheBack(key);
      const started = Date.now();
      while ((await keys.verify(key)) === null) {
        if (Date.now() - started > CACHE_MS * 3) break;
        await sleep(10);
      }
      const waited = Date.now() - started;
      t.ok(waited <= CACHE_MS + 150, `accepted after ${waited} ms`);
      t.ok(await keys.verify(KEY), 'configured keys keep working');
    });

    await t.test('steady traffic re-reads the hashes ahead of expiry', async (t) => {
      let reads = 0;
      const onQuery = (q: { sql: string }) => {
        if (q.sql.includes(table) && /^select/i.test(q.sql)) reads++;
      };
      ctx.db.on('query', onQuery);
      t.teardown(() => void ctx.db.off('query', onQuery));
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        t.ok(await keys.verify(KEY));
        await sleep(20);
      }
      // Re-read at half-life: ~2000 / 200 reads. Re-reading only once the copy has expired
      // would make ~2000 / 400.
      t.ok(reads >= 7, `${reads} reads in 2 s with a ${CACHE_MS} ms cache`);
    });
  });
}
