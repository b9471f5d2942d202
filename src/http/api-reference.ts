/**
 * The browsable API reference: Swagger UI rendering the kernel's OpenAPI document, as an
 * Express router that a host mounts where it likes (the standalone server: `/docs`).
 *
 * The page is swagger-ui-express's, and every asset it loads (Swagger UI's script, styles
 * and icons) is a file of the installed `swagger-ui-dist` package, served by this router:
 * nothing comes from a CDN, so the reference works on a machine without internet. The
 * document is this router's own `openapi.json`, the same as {@link Kernel.openapi}.
 *
 * swagger-ui-express is loaded on the first request, not when the kernel is imported:
 * hosts that never mount the reference do not load it, and the standalone bundle starts
 * without it.
 */
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { SwaggerUiOptions } from 'swagger-ui-express';
import type { Kernel } from '../kernel.js';
import type { OpenApiOptions } from './openapi.js';

/** Options of {@link apiReference}. */
export interface ApiReferenceOptions {
  /** Title, version and description of the document, as {@link Kernel.openapi} takes them. */
  openapi?: OpenApiOptions;
  /** The browser tab's title (default: the document's title and ` API reference`). */
  pageTitle?: string;
}

/** The files of `swagger-ui-dist` that the page loads (and their source maps, for developer tools). */
const ASSETS: ReadonlySet<string> = new Set([
  'swagger-ui.css',
  'swagger-ui.css.map',
  'swagger-ui-bundle.js',
  'swagger-ui-bundle.js.map',
  'swagger-ui-standalone-preset.js',
  'swagger-ui-standalone-preset.js.map',
  'favicon-16x16.png',
  'favicon-32x32.png',
]);

/** Where the router serves the document, relative to the page (so it works under any mount). */
const DOCUMENT = 'openapi.json';

/** The page, the script that starts Swagger UI on it, and the page's content security policy. */
interface Page {
  html: string;
  init: RequestHandler;
  csp: string;
}

/**
 * An Express router that serves an interactive reference of the kernel's OpenAPI document
 * (Swagger UI). Mount it under a path of its own:
 *
 * ```ts
 * app.use('/docs', apiReference(kernel, { openapi: { title: 'My API' } }));
 * ```
 *
 * What it answers, relative to where it is mounted:
 * - `/` — the page (`/docs` is redirected to `/docs/`, so that the page's relative asset
 *   addresses resolve under the mount). The page's answer carries its own
 *   `Content-Security-Policy`, replacing a host's stricter API policy for this page only:
 *   scripts, styles, images and requests from the same origin only, and no inline script
 *   (the page's own inline styles are allowed by their hashes).
 * - `/openapi.json` — the document, as {@link Kernel.openapi} builds it with
 *   `options.openapi`: built once the kernel is running and kept (routes do not change after
 *   start); `503 {"error":"Service Unavailable"}` before that and after the kernel stops.
 * - Swagger UI's script, styles and icons, read from the installed `swagger-ui-dist`.
 *
 * Any other path under the mount is passed on to the host's next handler (its 404).
 * "Try it out" sends real requests to this server, with the credentials the reader enters.
 */
export function apiReference(kernel: Kernel, options: ApiReferenceOptions = {}): Router {
  const router = express.Router({ strict: true });
  let page: Promise<Page> | undefined;
  let document: string | undefined;
  const failed = (res: Response) => {
    if (!res.headersSent) res.status(500).json({ error: 'Internal Server Error' });
  };
  const loadPage = () => {
    page ??= buildPage(options);
    return page;
  };

  router.get('/', async (req: Request, res: Response) => {
    const [pathname, query] = splitQuery(req.originalUrl);
    if (!pathname.endsWith('/')) {
      // Relative, with `./` first: the answer can only lead to the same server's mount.
      res.redirect(`./${pathname.slice(pathname.lastIndexOf('/') + 1)}/${query === undefined ? '' : `?${query}`}`);
      return;
    }
    try {
      const { html, csp } = await loadPage();
      res.setHeader('Content-Security-Policy', csp);
      res.type('html').send(html);
    } catch {
      failed(res);
    }
  });

  router.get('/swagger-ui-init.js', async (req, res, next) => {
    try {
      (await loadPage()).init(req, res, next);
    } catch {
      failed(res);
    }
  });

  router.get(`/${DOCUMENT}`, (_req, res) => {
    if (kernel.state !== 'running') {
      res.status(503).setHeader('Retry-After', '1').json({ error: 'Service Unavailable' });
      return;
    }
    document ??= JSON.stringify(kernel.openapi(options.openapi));
    res.type('json').send(document);
  });

  let assetsDir: string | undefined;
  router.get('/:asset', (req, res, next) => {
    const asset = req.params.asset;
    if (typeof asset !== 'string' || !ASSETS.has(asset)) return next();
    try {
      assetsDir ??= swaggerUiDist();
    } catch {
      return failed(res);
    }
    res.sendFile(asset, { root: assetsDir, dotfiles: 'deny' }, (err?: Error & { status?: number }) => {
      if (!err) return;
      if (err.status === 404) next();
      else failed(res);
    });
  });

  return router;
}

/** The installed `swagger-ui-dist` package's directory (where its assets are). */
function swaggerUiDist(): string {
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

function splitQuery(url: string): [string, string | undefined] {
  const at = url.indexOf('?');
  return at < 0 ? [url, undefined] : [url.slice(0, at), url.slice(at + 1)];
}

async function buildPage(options: ApiReferenceOptions): Promise<Page> {
  const { default: swaggerUi } = await import('swagger-ui-express');
  const title = options.openapi?.title ?? 'Switchboard';
  const uiOptions: SwaggerUiOptions = {
    // swagger-ui-express writes the title into the page as it is.
    customSiteTitle: escapeHtml(options.pageTitle ?? `${title} API reference`),
    swaggerUrl: `./${DOCUMENT}`,
    // (Without a value, swagger-ui-express writes the word `undefined` into the page's CSS.)
    customCss: '',
    swaggerOptions: {
      // The page without Swagger UI's top bar: its parts are a box to load another document
      // (hidden here), the Swagger logo, whose inline <style> the page's policy would refuse,
      // and a dark-mode switch.
      layout: 'BaseLayout',
      // Swagger UI's default asks validator.swagger.io for a badge: a request to the
      // internet from every page view. The document is valid OpenAPI 3.1 (tested).
      validatorUrl: null,
    },
  };
  const html = swaggerUi.generateHTML(undefined, uiOptions);
  const [init] = swaggerUi.serveFiles(undefined, uiOptions);
  return { html, init: init!, csp: contentSecurityPolicy(html) };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page's policy: everything from the same origin, no inline script, and only the page's
 * own inline styles, allowed by their SHA-256 (style attributes need `'unsafe-hashes'`).
 */
function contentSecurityPolicy(html: string): string {
  const hash = (text: string) => `'sha256-${crypto.createHash('sha256').update(text).digest('base64')}'`;
  const blocks = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => hash(m[1]!));
  const attributes = [...html.matchAll(/\sstyle="([^"]*)"/g)].map((m) => hash(m[1]!));
  const styles = [...new Set([...blocks, ...attributes])];
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self'${attributes.length > 0 ? " 'unsafe-hashes'" : ''} ${styles.join(' ')}`.trimEnd(),
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
