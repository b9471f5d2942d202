/**
 * What `npm start` runs, bundled as `dist/bundle/standalone.cjs`: it loads the bundled server
 * (`dist/bundle/server.cjs`, beside it) with its code cache (see code-cache.ts), runs it, and
 * saves the cache once the server listens, when the cache was missing or out of date.
 * It only works bundled: it finds the server by its own location in `dist/bundle/`.
 */
// First, before anything else loads: no `Object.prototype.__proto__` (see disable-proto.ts).
import './disable-proto.js';
import { fileURLToPath } from 'node:url';
import { loadWithCodeCache } from './code-cache.js';
import type { runStandalone } from './run.js';

const server = loadWithCodeCache(fileURLToPath(new URL('./server.cjs', import.meta.url)));
const { runStandalone: run } = server.exports as { runStandalone: typeof runStandalone };
void run(undefined, { onListening: () => void server.saveCache() });
