/**
 * Where the plugin's own runnable module files are: the bot worker program
 * (`runner/worker.js`) and the built-in bots (`bots/<name>.js`). They are loaded by URL in a
 * worker thread, exactly like a user's bot module, never handed over as source text.
 *
 * How the URL is found:
 * - From the TypeScript sources (tap runs them as they are), the files sit in the source tree
 *   next to this one: `plugins/redball/runner/worker.js`, `plugins/redball/bots/heartbeat.js`.
 *   They are plain JavaScript, so a worker runs them without a compiler or loader.
 * - From compiled code, through the package's self-reference: `import.meta.resolve(
 *   'switchboard/plugins/redball/…')`, mapped by the `exports` of package.json onto the files
 *   tsc wrote to `dist/plugins/redball/`. A module's own location cannot be used there: the
 *   standalone server's esbuild bundle (`dist/bundle/server.cjs`, which `npm start` loads)
 *   inlines this module, so its `import.meta.url` is the bundle's. The package's name resolves
 *   the same from dist/, from the bundle and from a host's node_modules, so all of them load
 *   the very same files.
 */

/** Running from the TypeScript sources (this file is still `shipped-modules.ts`). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** A module file of the plugin, by its path under `plugins/redball/` (e.g. `bots/heartbeat.js`). */
export function shippedModuleUrl(subpath: string): URL {
  if (FROM_SOURCE) return new URL(`../${subpath}`, import.meta.url);
  return new URL(import.meta.resolve(`switchboard/plugins/redball/${subpath}`));
}

/** The program every bot's worker thread runs. */
export function workerProgramUrl(): URL {
  return shippedModuleUrl('runner/worker.js');
}
