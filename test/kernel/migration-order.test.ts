/**
 * The order migrations run in: by name, as `localeCompare` sorts them, whatever order they are
 * declared in; and for the kernel's and the bundled plugins' migrations, without calling
 * `localeCompare` (its first call loads ICU's collation data, about 8 ms of every start).
 */
import t from 'tap';
import { kernelMigrations } from '../../src/db/kernel-migrations.js';
import { inNameOrder } from '../../src/db/migrations.js';
import { bundledPlugins } from '../../examples/standalone/plugins.js';

const ALPHABET = ['0', '1', '2', '9', '_', '-', '.', 'a', 'b', 'y', 'z', 'A', 'Z', 'é'];

/** A deterministic pseudo-random generator (a run can be repeated). */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

t.test('the order is localeCompare\'s, declared in any order', async (t) => {
  const next = random(17);
  const name = () => Array.from({ length: 1 + Math.floor(next() * 6) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('');
  let mismatches = 0;
  for (let run = 0; run < 2000; run++) {
    const names = [...new Set(Array.from({ length: 2 + Math.floor(next() * 5) }, name))];
    const expected = [...names].sort((a, b) => a.localeCompare(b));
    // Declared shuffled, and declared already sorted (where the fast path may answer).
    for (const declared of [names, expected]) {
      const got = inNameOrder(declared.map((n) => ({ name: n }))).map((m) => m.name);
      if (got.join('\n') !== expected.join('\n')) mismatches++;
    }
  }
  t.equal(mismatches, 0, '4,000 lists of names mixing digits, punctuation, both cases and a non-ASCII letter');
  const numbered = ['001_init', '002_cluster', '010_more', '003_x'];
  t.same(inNameOrder(numbered.map((n) => ({ name: n }))).map((m) => m.name), ['001_init', '002_cluster', '003_x', '010_more']);
  t.same(inNameOrder([{ name: '1_a' }, { name: '10_b' }]).map((m) => m.name), ['1_a', '10_b'].sort((a, b) => a.localeCompare(b)), "a digit against '_' is left to localeCompare");
});

t.test("the kernel's and the bundled plugins' migrations are ordered without localeCompare", async (t) => {
  const sets = [['kernel', kernelMigrations], ...bundledPlugins.map((p) => [p.id, p.migrations ?? []] as const)] as const;
  const original = String.prototype.localeCompare;
  let calls = 0;
  String.prototype.localeCompare = function (this: string, ...args: Parameters<typeof original>) {
    calls++;
    return original.apply(this, args);
  };
  try {
    for (const [id, migrations] of sets) {
      const before = calls;
      const ordered = inNameOrder(migrations);
      t.same(ordered.map((m) => m.name), migrations.map((m) => m.name).sort((a, b) => original.call(a, b)), `${id}: in name order`);
      t.equal(calls - before, 0, `${id}: no localeCompare`);
    }
  } finally {
    String.prototype.localeCompare = original;
  }
});
