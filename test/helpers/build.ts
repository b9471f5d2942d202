/**
 * Makes sure dist/ is the build of the sources the tests see, for the tests that run what
 * ships (the `npm start` bundle, the packed package).
 *
 * `npm test` builds first (`pretest` in package.json), rather than each test file building
 * for itself: one build before tap starts its test files in parallel, so that no two files
 * build at once, a broken build stops the run at its first step with the compiler's errors
 * (not as a test timeout), and no test file's time limit has to include a build. A file run
 * on its own (`npx tap test/e2e/…`) gets no `pretest`: these helpers say so when a source is
 * newer than the build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root directory (where package.json is). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project's package.json, read now (so that a changed script is followed). */
export function packageJson(): { name: string; version: string; scripts: Record<string, string>; bin: Record<string, string> } {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
}

/** The directories whose files `npm run build` compiles. */
const SOURCES = ['src', 'plugins', 'examples'];
/** The last output `npm run build` writes (after tsc succeeded), always rewritten. */
const OUTPUTS = ['dist/bundle/standalone.cjs'];

function newestSource(dir: string): { file: string; mtimeMs: number } | undefined {
  let newest: { file: string; mtimeMs: number } | undefined;
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|mts|mjs|js|json|ya?ml)$/.test(entry.name)) {
        const { mtimeMs } = fs.statSync(full);
        if (!newest || mtimeMs > newest.mtimeMs) newest = { file: full, mtimeMs };
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return newest;
}

/** Why dist/ is not current (a source newer than the build, or no build), or undefined when it is. */
export function staleBecause(): string | undefined {
  const outputs = OUTPUTS.map((f) => path.join(ROOT, f));
  const missing = outputs.find((f) => !fs.existsSync(f));
  if (missing) return `${path.relative(ROOT, missing)} is missing`;
  const built = Math.min(...outputs.map((f) => fs.statSync(f).mtimeMs));
  for (const dir of [...SOURCES.map((d) => path.join(ROOT, d)), path.join(ROOT, 'package.json'), path.join(ROOT, 'tsconfig.json')]) {
    const newest = fs.statSync(dir).isDirectory() ? newestSource(dir) : { file: dir, mtimeMs: fs.statSync(dir).mtimeMs };
    if (newest && newest.mtimeMs > built) return `${path.relative(ROOT, newest.file)} is newer than the build`;
  }
  return undefined;
}

/**
 * Checks that dist/ is built: throws when `npm run build` has not run; returns why the build
 * may be older than the sources (for the test to print), or undefined when it is current.
 */
export function checkBuilt(): string | undefined {
  const reason = staleBecause();
  if (reason?.endsWith('is missing')) throw new Error(`${reason}: run \`npm run build\` (\`npm test\` does it first)`);
  return reason && `dist/ may be stale (${reason}); \`npm test\` builds first, a test file run alone does not: run \`npm run build\``;
}
