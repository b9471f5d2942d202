/**
 * The TypeDoc reference (`npm run docs`), built here with the project's typedoc.json into a
 * scratch directory: it builds without a warning, names each module by the path a user
 * imports (`switchboard/plugins/owncast`, as package.json's `exports` lists them), shows each
 * page's title once, and, in headless Chromium, keeps the README's tables inside the content
 * column, clear of the sidebars, at the widths of both of TypeDoc's layouts.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium, skipWithoutChromium } from './chromium.js';
import type { DomElement, PageGlobals } from './dom.js';

// TypeDoc type-checks the whole project: ~15 s alone, minutes while the rest of the suite runs.
t.setTimeout(600_000);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-typedoc-'));
t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));

const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: ROOT, encoding: 'utf8' });
const log = `${build.stdout}${build.stderr}`;
t.equal(build.status, 0, 'typedoc builds (warnings are errors)', { log: log.slice(-4000) });
t.notMatch(log, /\[warning\]|\[error\]/, 'and reports no warning', { log: log.slice(-4000) });
const unbuilt = build.status === 0 && fs.existsSync(path.join(out, 'index.html')) ? false : 'the reference did not build';

const read = (page: string, dir = out) => fs.readFileSync(path.join(dir, page), 'utf8');
const h1s = (html: string) => [...html.matchAll(/<h1[^>]*>([\s\S]*?)<\/h1>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '').trim());

t.test('modules are named by their import paths', { skip: unbuilt }, async (t) => {
  // Each entry point is a module a user imports by the path that package.json's `exports`
  // maps to its compiled declarations: plugins/owncast/index.ts → `switchboard/plugins/owncast`.
  const { entryPoints } = JSON.parse(read('typedoc.json', ROOT)) as { entryPoints: string[] };
  const { name, exports } = JSON.parse(read('package.json', ROOT)) as { name: string; exports: Record<string, { types?: string }> };
  const expected = entryPoints
    .map((entry) => {
      const types = `./dist/${entry.replace(/\.ts$/, '.d.ts')}`;
      const key = Object.keys(exports).find((k) => exports[k]?.types === types);
      t.ok(key, `${entry} is exported by package.json (${types})`);
      return key === '.' ? name : `${name}/${key?.slice(2)}`;
    })
    .sort();
  t.ok(expected.includes('switchboard/plugins/owncast'), 'the plugins are among them');
  const modules = fs.readdirSync(path.join(out, 'modules')).map((page) => h1s(read(path.join('modules', page))));
  t.same(modules.map((titles) => titles.length), modules.map(() => 1), 'one title per module page');
  t.same(modules.map(([title]) => title).sort(), expected.map((m) => `Module ${m}`), 'one module per entry point, titled by its import path');
  const listed = [...read('modules.html').matchAll(/<a href="modules\/[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]).sort();
  t.same(listed, expected, 'the module list names each module by its import path');
});

t.test('each page shows its title once', { skip: unbuilt }, async (t) => {
  t.same(h1s(read('index.html')), ['Switchboard'], 'the index page: the README title, once');
  const documents = fs.readdirSync(path.join(out, 'documents'));
  t.ok(documents.length >= 10, 'the guides are in the reference');
  for (const page of documents) t.equal(h1s(read(path.join('documents', page))).length, 1, `${page}: one title`);
});

t.test('tables stay inside the content column (Chromium)', { skip: unbuilt || skipWithoutChromium() }, async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  // Below 1200 px TypeDoc shows one sidebar, from 1200 px two (navigation left, page contents right).
  for (const width of [1000, 1280, 1600]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(pathToFileURL(path.join(out, 'index.html')).href);
    // TypeDoc's script shows the page once it has set the page up.
    await page.waitForFunction(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return document.body.style.display !== 'none' && document.querySelector('.site-menu nav') !== null;
    });
    const layout = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const box = (el: DomElement | null) => {
        if (!el) return undefined;
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 ? { left: r.left, right: r.right, top: r.top, bottom: r.bottom } : undefined;
      };
      const content = document.querySelector('.col-content')!;
      return {
        content: box(content)!,
        sidebars: [...document.querySelectorAll('.site-menu, .page-menu')].map(box).filter((b) => b !== undefined),
        tables: [...content.querySelectorAll('table')].map((table) => ({
          box: box(table)!,
          // Cells hidden behind a scroll bar would be off the page for a reader.
          hiddenWidth: table.scrollWidth - table.clientWidth,
        })),
        navigationHiddenWidth: Math.max(...[...document.querySelectorAll('.site-menu')].map((m) => m.scrollWidth - m.clientWidth)),
      };
    });
    await page.close();
    t.ok(layout.tables.length > 0, `${width} px: the README's plugin table is on the page`);
    t.ok(layout.sidebars.length > 0, `${width} px: a sidebar is shown`);
    layout.tables.forEach(({ box, hiddenWidth }, i) => {
      t.ok(box.left >= layout.content.left - 0.5 && box.right <= layout.content.right + 0.5, `${width} px: table ${i + 1} within the content column`, { box, content: layout.content });
      t.ok(hiddenWidth <= 1, `${width} px: table ${i + 1} shows every column`, { hiddenWidth });
      for (const side of layout.sidebars) {
        const overlaps = box.left < side.right && side.left < box.right && box.top < side.bottom && side.top < box.bottom;
        t.notOk(overlaps, `${width} px: table ${i + 1} does not overlap a sidebar`, { box, side });
      }
    });
    t.ok(layout.navigationHiddenWidth <= 1, `${width} px: the navigation shows whole module names`, { hidden: layout.navigationHiddenWidth });
  }
});
