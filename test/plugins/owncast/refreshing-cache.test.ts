/**
 * RefreshingCache: one read however many callers, the old value while it is read again, a
 * wait once it is too old, and nothing of a read begun before an invalidation.
 */
import t from 'tap';
import { RefreshingCache } from '../../../plugins/owncast/refreshing-cache.js';

/** A read the test settles by hand, counting how many began. */
function manualReads<T>() {
  const pending: Array<{ resolve: (v: T) => void; reject: (e: unknown) => void }> = [];
  let began = 0;
  return {
    read: () =>
      new Promise<T>((resolve, reject) => {
        began++;
        pending.push({ resolve, reject });
      }),
    get began() {
      return began;
    },
    settle(value: T) {
      pending.shift()!.resolve(value);
    },
    fail(err: unknown) {
      pending.shift()!.reject(err);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

t.test('callers arriving together share one read', async (t) => {
  const reads = manualReads<number>();
  const cache = new RefreshingCache(reads.read, () => 1000, (err) => t.fail(String(err)));
  const answers = Promise.all([cache.get(), cache.get(), cache.get()]);
  t.equal(reads.began, 1);
  reads.settle(1);
  t.same(await answers, [1, 1, 1]);
  t.equal(await cache.get(), 1, 'kept while fresh');
  t.equal(reads.began, 1);
});

t.test('past its age the old value is answered while one read runs; past twice its age, callers wait', async (t) => {
  let now = 10_000;
  t.capture(Date, 'now', () => now);
  const reads = manualReads<string>();
  const cache = new RefreshingCache(reads.read, () => 1000, (err) => t.fail(String(err)));
  const first = cache.get();
  reads.settle('a');
  t.equal(await first, 'a');

  now += 1500; // stale, within twice the age
  t.equal(await cache.get(), 'a', 'the old value, at once');
  t.equal(await cache.get(), 'a');
  t.equal(reads.began, 2, 'one read again for both');
  reads.settle('b');
  await tick();
  t.equal(await cache.get(), 'b', 'the new value once read');

  now += 2500; // older than twice the age: wait
  let answered: string | undefined;
  const waiting = cache.get().then((v) => (answered = v));
  await tick();
  t.equal(answered, undefined, 'not answered with the old value');
  reads.settle('c');
  await waiting;
  t.equal(answered, 'c');
});

t.test('an invalidation drops the value and any read begun before it', async (t) => {
  const reads = manualReads<string>();
  const cache = new RefreshingCache(reads.read, () => 1000, (err) => t.fail(String(err)));
  const before = cache.get();
  cache.invalidate();
  const after = cache.get();
  t.equal(reads.began, 2, 'a caller after the change does not join the read begun before it');
  reads.settle('old');
  t.equal(await before, 'old', 'the earlier caller gets what its read found');
  reads.settle('new');
  t.equal(await after, 'new');
  t.equal(await cache.get(), 'new', 'the read begun before the change is not kept');
  t.equal(reads.began, 2);
});

t.test('a failed read fails its callers and the next caller reads again', async (t) => {
  const reads = manualReads<number>();
  const cache = new RefreshingCache(reads.read, () => 1000, (err) => t.fail(String(err)));
  const failing = Promise.all([cache.get(), cache.get()]);
  reads.fail(new Error('database gone'));
  await t.rejects(failing, /database gone/);
  const again = cache.get();
  t.equal(reads.began, 2);
  reads.settle(7);
  t.equal(await again, 7);
});

t.test('a failed read in the background keeps the old value and is reported', async (t) => {
  let now = 0;
  t.capture(Date, 'now', () => now);
  const reads = manualReads<number>();
  const reported: unknown[] = [];
  const cache = new RefreshingCache(reads.read, () => 1000, (err) => reported.push(err));
  const first = cache.get();
  reads.settle(1);
  await first;
  now = 1200;
  t.equal(await cache.get(), 1);
  reads.fail(new Error('busy'));
  await tick();
  t.match(reported, [/busy/]);
  t.equal(await cache.get(), 1, 'still the old value, while a new read runs');
  t.equal(reads.began, 3);
  reads.settle(2);
  await tick();
  t.equal(await cache.get(), 2);
});
