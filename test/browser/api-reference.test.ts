/**
 * The browsable API reference (`apiReference(kernel)`; the standalone server's `/docs`).
 *
 * In process, on each database: what the router answers (the page with its own content
 * security policy, Swagger UI's files from node_modules and nothing else of that package, the
 * document once the kernel runs, 503 before and after).
 *
 * In headless Chromium, against the standalone server started as `npm start` starts it (the
 * bundle): the page loads with no console error, no refused content, no failed request and
 * no request to another origin, lists exactly the operations of `/openapi.json` (those of
 * all five families), and "Try it out" really calls the server.
 */
import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { Kernel, apiReference, definePlugin, Type } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { launchChromium, skipWithoutChromium } from './chromium.js';
import type { PageGlobals } from './dom.js';
import { ROOT, npmStart } from './npm-start.js';

const SWAGGER_UI_DIST = path.join(ROOT, 'node_modules/swagger-ui-dist');

const notes = definePlugin({
  id: 'notes',
  version: '1.0.0',
  init(ctx) {
    ctx.routes.add({
      method: 'GET',
      path: '/notes/:id',
      summary: 'One note',
      params: Type.Object({ id: Type.String() }),
      handler: ({ params }) => ({ id: params.id }),
    });
  },
});

function sha256(text: string): string {
  return `'sha256-${crypto.createHash('sha256').update(text).digest('base64')}'`;
}

for (const kind of databaseKinds()) {
  t.test(`apiReference in process (${kind})`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const app = express();
    const kernel = new Kernel({ app, database: db.url, logger: { level: 'silent' }, plugins: [{ plugin: notes }] });
    const openapi = { title: 'Notes', description: 'A test API' };
    app.use('/reference', apiReference(kernel, { openapi }));
    app.use('/odd', apiReference(kernel, { pageTitle: '</title><script>alert(1)</script>' }));
    app.use((_req, res) => void res.status(404).json({ error: 'host 404' }));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    t.teardown(() => kernel.stop());
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = (p: string) => fetch(`${base}${p}`, { redirect: 'manual' });

    const early = await get('/reference/openapi.json');
    t.equal(early.status, 503, 'no document before the kernel runs');
    t.same(await early.json(), { error: 'Service Unavailable' });

    await kernel.start();
    const doc = await get('/reference/openapi.json');
    t.equal(doc.status, 200);
    t.match(doc.headers.get('content-type'), /^application\/json/);
    const body = (await doc.json()) as { info: { title: string }; paths: Record<string, unknown> };
    t.same(body, kernel.openapi(openapi), 'the kernel’s document, with the given title and description');
    t.ok(body.paths['/notes/{id}'], 'with the plugin’s route');

    for (const [from, to] of [
      ['/reference', './reference/'],
      ['/reference?x=1', './reference/?x=1'],
    ] as const) {
      const res = await get(from);
      t.equal(res.status, 302, `${from}: redirected`);
      t.equal(res.headers.get('location'), to, `${from}: to the page under the mount, relative`);
    }

    const page = await get('/reference/');
    t.equal(page.status, 200);
    t.match(page.headers.get('content-type'), /^text\/html/);
    const html = await page.text();
    t.match(html, /<title>Notes API reference<\/title>/);
    const odd = await (await get('/odd/')).text();
    t.ok(odd.includes('<title>&#60;/title&#62;&#60;script&#62;alert(1)&#60;/script&#62;</title>'), 'a page title is written as text, not markup');
    t.notMatch(html, /\s(src|href)=["']?([a-z]+:)?\/\//i, 'the page loads nothing by absolute address (no CDN)');
    t.notMatch(html, /<script>/, 'no inline script');
    const csp = page.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(/;\s*/).map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));
    t.same(directives.get('default-src'), ["'none'"]);
    t.same(directives.get('script-src'), ["'self'"], 'scripts from the server only');
    t.same(directives.get('connect-src'), ["'self'"]);
    t.same(directives.get('frame-ancestors'), ["'none'"]);
    t.notMatch(csp, /unsafe-inline|unsafe-eval/);
    const styles = directives.get('style-src') ?? [];
    const blocks = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    t.ok(blocks.length > 0, 'the page has inline style blocks');
    for (const block of blocks) t.ok(styles.includes(sha256(block)), 'each inline style block is allowed by its hash');
    t.same(styles.filter((s) => s.startsWith("'sha256-")).length, new Set([...blocks, ...[...html.matchAll(/\sstyle="([^"]*)"/g)].map((m) => m[1]!)]).size, 'and nothing else inline');

    const init = await get('/reference/swagger-ui-init.js');
    t.equal(init.status, 200);
    t.match(init.headers.get('content-type'), /javascript/);
    const script = await init.text();
    t.match(script, '"swaggerUrl": "./openapi.json"', 'Swagger UI reads the router’s own document');
    t.match(script, '"validatorUrl": null', 'and asks no validator on the internet');

    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png']) {
      const res = await get(`/reference/${asset}`);
      t.equal(res.status, 200, `${asset} served`);
      t.ok(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(path.join(SWAGGER_UI_DIST, asset))), `${asset}: the installed swagger-ui-dist file`);
    }
    // The rest of the package is not served: its own demo page (which loads the Petstore from
    // the internet), its initializer, its package.json, paths that try to leave the directory.
    for (const p of ['/reference/index.html', '/reference/swagger-initializer.js', '/reference/package.json', '/reference/absolute-path.js', '/reference/..%2fpackage.json', '/reference/%2e%2e/%2e%2e/package.json', '/reference/nope']) {
      const res = await get(p);
      t.equal(res.status, 404, `${p}: not served`);
      t.same(await res.json(), { error: 'host 404' }, `${p}: left to the host`);
    }

    await kernel.stop();
    t.equal((await get('/reference/openapi.json')).status, 503, 'no document once the kernel stopped');
  });

  t.test(`/docs in Chromium, from the npm start bundle (${kind})`, { skip: skipWithoutChromium() }, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const server = await npmStart(db.url);
    t.teardown(() => server.stop());
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
    });
    await page.exposeFunction('swbViolation', (text: string) => problems.push(`refused by the content security policy: ${text}`));
    await page.addInitScript(() => {
      const page = globalThis as unknown as PageGlobals;
      page.addEventListener('securitypolicyviolation', (e) => page.swbViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    });

    const response = await page.goto(`${server.url}/docs`);
    t.equal(page.url(), `${server.url}/docs/`, '/docs leads to /docs/');
    t.equal(response?.status(), 200);
    const headers = response!.headers();
    t.match(headers['content-security-policy'], /script-src 'self'/, 'the page’s own policy');
    t.equal(headers['x-content-type-options'], 'nosniff', 'the standalone server’s other security headers stay');

    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const expected = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${p}`));
    // One operation of each family, as its clients know it.
    const landmarks = ['GET /stats', 'GET /api/v1/bots', 'POST /ocs/v2.php/apps/spreed/api/v1/bot/{token}/message', 'GET /rest/{type}', 'GET /api/status'];
    for (const op of landmarks) t.ok(expected.includes(op), `/openapi.json has ${op}`);

    await page
      .waitForFunction((n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('.opblock').length >= n, expected.length, { timeout: 120_000 })
      .catch((err: Error) => t.fail(`the operations did not appear: ${err.message}`, { problems }));
    const shown = await page.$$eval('.opblock', (blocks) =>
      blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    );
    t.same([...shown].sort(), [...expected].sort(), 'the page lists every operation of /openapi.json, and only those');
    for (const op of landmarks) t.ok(shown.includes(op), `shows ${op}`);

    // "Try it out" on Owncast's public status: the page really calls the server.
    const status = page.locator('.opblock', { has: page.locator('[data-path="/api/status"]') }).first();
    await status.locator('.opblock-summary-control').click();
    await status.getByRole('button', { name: 'Try it out' }).click();
    const answered = page.waitForResponse((r) => r.url() === `${server.url}/api/status`);
    await status.getByRole('button', { name: 'Execute' }).click();
    t.equal((await answered).status(), 200, 'Execute sends the request');
    await status.locator('.live-responses-table tbody .response-col_status').first().waitFor();
    t.match(await status.locator('.live-responses-table tbody .response-col_status').first().textContent(), /200/, 'and the page shows the answer');

    const origin = new URL(server.url).origin;
    t.same(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:')), [], 'no request leaves the server (no CDN, no validator)');
    t.same(problems, [], 'no console error, refused content or failed request');
  });
}
