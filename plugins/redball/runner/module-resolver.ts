/**
 * Finds the module a bot type names: a file in the bots directory, else a built-in bot.
 *
 * `moduleName` is a name relative to the bots directory (`game_threads`, `team/scores`,
 * `ticker.mjs`). Without an extension it tries `<name>.js`, `<name>.mjs`, `<name>.cjs`,
 * `<name>/index.js` and `<name>/index.mjs`. Names that would leave the directory — absolute
 * paths, `..` segments, symbolic links pointing outside — are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILTIN_BOT_TYPES } from './builtin-bots.js';
import { shippedModuleUrl } from './shipped-modules.js';

/** The longest module name accepted. */
export const MAX_MODULE_NAME_LENGTH = 200;

const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs'];

/** Where a bot's code comes from. */
export type ResolvedModule =
  | {
      /** The module exists. */
      found: true;
      /** The URL to import it from. */
      url: string;
      /** A file in the bots directory, or a bot that ships with the plugin. */
      source: 'file' | 'builtin';
      /** Where it is, for logs: a path, or the built-in's name. */
      location: string;
    }
  | {
      /** No such module. */
      found: false;
      /** Why, for the API's error message. */
      reason: string;
    };

/**
 * Why a module name is unacceptable, or undefined when it is fine. Checked when a bot type
 * is created or updated, and again before loading.
 */
export function moduleNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'moduleName must not be empty';
  if (name.length > MAX_MODULE_NAME_LENGTH) return `moduleName must be at most ${MAX_MODULE_NAME_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\:]/.test(name)) return 'moduleName must not contain control characters, backslashes or colons';
  if (name.startsWith('/')) return 'moduleName must be relative to the bots directory';
  const segments = name.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return 'moduleName must stay inside the bots directory (no empty, "." or ".." segments)';
  return undefined;
}

/** Resolves bot type module names against a bots directory and the built-in bots. */
export class BotModuleResolver {
  /** The absolute bots directory. */
  readonly botsDir: string;

  /** @param botsDir - the bots directory, resolved against the working directory */
  constructor(botsDir: string) {
    this.botsDir = path.resolve(botsDir);
  }

  /** Finds the module for `moduleName`. */
  resolve(moduleName: string): ResolvedModule {
    const problem = moduleNameProblem(moduleName);
    if (problem) return { found: false, reason: problem };
    const file = this.findFile(moduleName);
    if (file) return { found: true, url: pathToFileURL(file).href, source: 'file', location: file };
    const builtin = BUILTIN_BOT_TYPES.find((b) => b.moduleName === moduleName);
    if (builtin) {
      let url: string;
      try {
        url = shippedModuleUrl(`bots/${builtin.moduleName}.js`).href;
      } catch {
        return { found: false, reason: `the built-in module '${builtin.moduleName}' is missing from this installation of Switchboard` };
      }
      return { found: true, url, source: 'builtin', location: `built-in '${builtin.moduleName}'` };
    }
    return { found: false, reason: `module '${moduleName}' was not found in the bots directory (${this.botsDir}) nor among the built-in bots (${BUILTIN_BOT_TYPES.map((b) => b.moduleName).join(', ')})` };
  }

  private findFile(moduleName: string): string | undefined {
    let root: string;
    try {
      root = fs.realpathSync(this.botsDir);
    } catch {
      return undefined; // no bots directory: only built-ins
    }
    const base = path.resolve(root, moduleName);
    if (!isInside(root, base)) return undefined;
    const candidates = MODULE_EXTENSIONS.includes(path.extname(moduleName))
      ? [base]
      : [...MODULE_EXTENSIONS.map((ext) => base + ext), path.join(base, 'index.js'), path.join(base, 'index.mjs')];
    for (const candidate of candidates) {
      let real: string;
      try {
        real = fs.realpathSync(candidate);
        if (!fs.statSync(real).isFile()) continue;
      } catch {
        continue;
      }
      // A symbolic link may point anywhere: the target itself must be inside the directory.
      if (isInside(root, real)) return real;
    }
    return undefined;
  }
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
