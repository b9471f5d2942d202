/** The bench's comparison with its previous results file (issue 17, honest reporting). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { compareRatios, formatComparison, previousResults, type ResultsFile } from './compare.js';
import type { Figure } from './harness.js';

const fig = (scenario: string, name: string, value: number, unit: string, ratio?: number): Figure => ({ scenario, name, value, unit, ...(ratio === undefined ? {} : { ratio }) });

t.test('the newest results file of the same mode is the previous run; unreadable ones are skipped', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-bench-compare-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.equal(previousResults(path.join(dir, 'none'), false), undefined, 'no directory: nothing to compare with');
  const write = (name: string, commit: string) => fs.writeFileSync(path.join(dir, name), JSON.stringify({ date: 'd', commit, quick: name.includes('quick'), figures: [] }));
  write('2026-12-01T10-00-00-000Z.json', 'old');
  write('2026-12-02T10-00-00-000Z.json', 'full');
  write('2026-12-03T10-00-00-000Z-quick.json', 'quick');
  fs.writeFileSync(path.join(dir, '2026-12-04T10-00-00-000Z.json'), '{ cut off');
  t.equal(previousResults(dir, false)?.results.commit, 'full', 'full runs compare with full runs, past an unreadable newer file');
  t.equal(previousResults(dir, true)?.results.commit, 'quick', 'quick runs with quick runs');
});

t.test('every ratio measured in both runs, with its change', async (t) => {
  const before = [fig('baseline', 'bare Express 5 route', 12000, 'req/s', 1), fig('kernel', 'validated plugin route', 11000, 'req/s', 0.92), fig('auth-flood', 'p50 ratio', 1.5, 'x'), fig('anope', 'list 100k', 400, 'ms'), fig('gone', 'old', 1, 'x')];
  const after = [fig('baseline', 'bare Express 5 route', 9000, 'req/s', 1), fig('kernel', 'validated plugin route', 10000, 'req/s', 1.012), fig('auth-flood', 'p50 ratio', 0.75, 'x'), fig('anope', 'list 100k', 300, 'ms'), fig('new', 'scenario', 2, 'x')];
  const changes = compareRatios(before, after);
  t.same(
    changes.map((c) => [c.label, c.before, c.after, Math.round(c.change * 1000) / 1000]),
    [
      ['kernel: validated plugin route', 0.92, 1.012, 0.1],
      ['auth-flood: p50 ratio', 1.5, 0.75, -0.5],
    ],
    'ratios to Express and ratio-valued figures; not the Express baseline itself, not absolute values, not figures of one run only',
  );
  const text = formatComparison({ date: '2026-12-01', commit: 'abc1234', quick: false, figures: before } satisfies ResultsFile, 'test/bench/results/x.json', changes);
  t.match(text, /^Compared with test\/bench\/results\/x\.json \(2026-12-01, commit abc1234\):\n/);
  t.match(text, /kernel: validated plugin route\s+0\.92 →\s+1\.01\s+\+10\.0 %/);
  t.match(text, /auth-flood: p50 ratio\s+1\.50 →\s+0\.75\s+-50\.0 %/);
  t.match(formatComparison({ date: 'd', commit: 'c', quick: true, figures: [] }, 'f', []), /no ratio measured in both runs/);
});
