/**
 * `BatchedLookup`: concurrent reads by key share one query; every caller is answered by a
 * query that started after it asked (a change made before the call is seen); a lone caller's
 * query starts at once; batches are bounded; a failed query fails exactly its callers.
 */
import t from 'tap';
import { BatchedLookup } from '../../src/index.js';

/** A store whose reads are held until released, recording each query's keys. */
function heldStore() {
  const data = new Map<string, number>();
  const queries: string[][] = [];
  const pending: Array<() => void> = [];
  const lookup = new BatchedLookup<string, number>({
    maxBatch: 3,
    load: async (keys) => {
      queries.push([...keys]);
      // The snapshot is taken when the query starts, as a database read would be.
      const snapshot = new Map(keys.flatMap((k) => (data.has(k) ? [[k, data.get(k)!] as const] : [])));
      await new Promise<void>((r) => pending.push(r));
      return snapshot;
    },
  });
  const release = async () => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()!();
  };
  return { data, queries, lookup, release };
}

t.test('a lone caller is read at once; callers meanwhile share the next query', async (t) => {
  const { data, queries, lookup, release } = heldStore();
  data.set('a', 1);
  data.set('b', 2);
  const first = lookup.get('a');
  t.same(queries, [['a']], 'the first query started at once, for the lone caller');
  const second = [lookup.get('a'), lookup.get('b'), lookup.get('b'), lookup.get('zz')];
  t.equal(queries.length, 1, 'callers during a query wait for it');
  await release();
  t.equal(await first, 1);
  await release();
  t.same(await Promise.all(second), [1, 2, 2, undefined], 'each caller gets its own key’s value; a missing key is undefined');
  t.same(queries, [['a'], ['a', 'b', 'zz']], 'one query for the waiting callers, keys distinct');
});

t.test('a caller is never answered by a query that started before it asked', async (t) => {
  const { data, lookup, release } = heldStore();
  data.set('tok', 1);
  const before = lookup.get('tok');
  // The token is revoked while the first query is in flight, then asked for again.
  data.delete('tok');
  const after = lookup.get('tok');
  await release();
  await release();
  t.equal(await before, 1, 'the earlier caller saw the token');
  t.equal(await after, undefined, 'the later caller sees the revocation');
});

t.test('batches are bounded', async (t) => {
  const { queries, lookup, release } = heldStore();
  const all = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => lookup.get(k));
  for (let i = 0; i < 3; i++) await release();
  await Promise.all(all);
  t.same(queries, [['a'], ['b', 'c', 'd'], ['e', 'f', 'g']]);
});

t.test('a failed query fails its own callers only', async (t) => {
  let calls = 0;
  const lookup = new BatchedLookup<string, number>({
    load: async (keys) => {
      calls++;
      if (keys.includes('bad')) throw new Error('read failed');
      return new Map(keys.map((k) => [k, k.length]));
    },
  });
  const first = lookup.get('bad');
  const later = lookup.get('good');
  await t.rejects(first, { message: 'read failed' });
  t.equal(await later, 4, 'the next query is unaffected');
  t.equal(calls, 2);
  t.equal(await lookup.get('x'), 1, 'it keeps working after a failure');
});

t.test('maxBatch must be a positive integer', async (t) => {
  const load = async () => new Map<string, number>();
  t.throws(() => new BatchedLookup({ load, maxBatch: 0 }), RangeError);
  t.throws(() => new BatchedLookup({ load, maxBatch: 2.5 }), RangeError);
});
