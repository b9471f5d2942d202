// Docs are tests: every page in scope has its test (a new docs/plugins/<family>.md needs a
// test/docs/page-<family>.test.ts), and the totals over all pages, with every marked block and
// why. The pages are run by the page-*.test.ts files, one per page, so tap runs them in parallel.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { parseBlocks } from './harness/markdown.js';
import { REPO } from './harness/run-page.js';

/** The pages whose every block is run or marked (issue 14, "Docs are tests"). */
function pagesInScope(): string[] {
  const plugins = fs
    .readdirSync(path.join(REPO, 'docs/plugins'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/plugins/${f}`);
  return ['README.md', ...plugins, 'docs/writing-a-plugin.md', 'docs/deployment.md'];
}

t.test('every page in scope is tested, and the totals', async (t) => {
  const dir = path.join(REPO, 'test/docs');
  const tests = fs
    .readdirSync(dir)
    .filter((f) => /^page-.*\.test\.ts$/.test(f))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  let run = 0;
  let marked = 0;
  const scope = pagesInScope();
  for (const page of scope) t.ok(tests.some((source) => source.includes(`testPage('${page}'`)), `${page} has a page test`);
  // Other pages may have page tests too (docs/operations.md …): they count in the totals.
  const others = tests.flatMap((source) => [...source.matchAll(/testPage\('([^']+)'/g)].map((m) => m[1])).filter((p) => !scope.includes(p));
  const pages = [...scope, ...new Set(others)];
  for (const page of pages) {
    const blocks = parseBlocks(fs.readFileSync(path.join(REPO, page), 'utf8'));
    for (const block of blocks) {
      if (block.marked) {
        marked++;
        t.comment(`docs: marked ${page}:${block.line}: ${block.marked}`);
      } else if (block.kind === 'other') {
        t.fail(`${page}:${block.line}: a block that is neither run nor marked`);
      } else if (block.kind !== 'output') run++;
    }
  }
  t.comment(`docs: ${run} blocks run, ${marked} blocks marked (${pages.length} pages)`);
});
