/**
 * Loading a CommonJS file with a V8 code cache kept beside it, so that a start does not
 * compile the same code again.
 *
 * What `npm start` runs is one bundled file of 2.2 MB (see bundle.mjs). Compiling it took
 * about 100 ms of every start, and the functions compiled while the server starts up about
 * 40 ms more. Node 22 caches compiled code on its own (`module.enableCompileCache()`); Node 20,
 * which this project runs on, does not. V8 does offer it to anyone who compiles a script
 * (`vm.Script`'s `cachedData` and `createCachedData()`), which is what Node's own cache uses,
 * so this module loads the bundle the way Node's CommonJS loader does, with a cache:
 * - the file is compiled as a `vm.Script` in Node's module wrapper and run with its own
 *   `exports`, `require` (resolving from the file's directory), `module`, `__filename` and
 *   `__dirname`. It must not use `import()`: Node 20 loses a script's dynamic-import callback
 *   in code that comes from a cache, so bundle.mjs builds the file with `require()` in its
 *   place;
 * - the cache is `<file>.v8cache`, written by {@link CachedModule.saveCache} once the caller
 *   has started (so it holds the functions compiled while starting too), and read at the next
 *   load;
 * - it begins with the SHA-256 of the file's text and of the Node version and architecture,
 *   and is used only when that matches: V8's own check compares only the text's length, so a
 *   rebuilt file of the same length would otherwise run the old file's compiled code. V8
 *   checks its own version and flags and refuses a cache that does not fit; a cache that
 *   cannot be used is written again;
 * - it lives beside the file it caches: whoever can change it can change that file too. It is
 *   written to a temporary name and renamed, so that a start never reads a half-written one.
 *   When the directory is not writable, nothing is cached and nothing else changes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** A CommonJS file loaded by {@link loadWithCodeCache}. */
export interface CachedModule {
  /** What the file exported (its `module.exports`). */
  readonly exports: unknown;
  /** True when this load ran from the cache (V8 accepted it). */
  readonly fromCache: boolean;
  /**
   * Writes the cache, with every function compiled so far, unless this load ran from a valid
   * one. Never throws: it answers false when it wrote nothing (the cache was used, or the
   * directory is not writable).
   */
  saveCache(): boolean;
}

/** Node's CommonJS module wrapper, around the file's text. */
const WRAPPER_START = '(function (exports, require, module, __filename, __dirname) { ';
const WRAPPER_END = '\n});';

/** The length of the cache file's header: a SHA-256. */
const HEADER_BYTES = 32;

/** The path of the cache kept for `file`. */
export function codeCachePath(file: string): string {
  return `${file}.v8cache`;
}

/**
 * Loads and runs the CommonJS file `file` (an absolute path) once, from its code cache when
 * there is a valid one. See the module's description.
 */
export function loadWithCodeCache(file: string): CachedModule {
  // Hashed as the bytes read: hashing the decoded text would encode it all over again.
  const bytes = fs.readFileSync(file);
  const key = createHash('sha256').update(bytes).update(`\0${process.version}\0${process.arch}`).digest();
  const source = bytes.toString('utf8');
  const cacheFile = codeCachePath(file);
  const cached = readCache(cacheFile, key);
  const script = new vm.Script(WRAPPER_START + source + WRAPPER_END, {
    filename: file,
    cachedData: cached,
  });
  const fromCache = cached !== undefined && !script.cachedDataRejected;
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return {
    exports: module.exports,
    fromCache,
    saveCache: () => !fromCache && writeCache(cacheFile, key, script.createCachedData()),
  };
}

/** The cached data in `cacheFile` when its header is `key`, else undefined. */
function readCache(cacheFile: string, key: Buffer): Buffer | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  if (data.length <= HEADER_BYTES || !data.subarray(0, HEADER_BYTES).equals(key)) return undefined;
  return data.subarray(HEADER_BYTES);
}

/** Writes `key` and `data` to `cacheFile` through a temporary file; false when it cannot. */
function writeCache(cacheFile: string, key: Buffer, data: Buffer): boolean {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, Buffer.concat([key, data]));
    fs.renameSync(temporary, cacheFile);
    return true;
  } catch {
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // Nothing was written, or the directory refuses even that: either way no cache.
    }
    return false;
  }
}
