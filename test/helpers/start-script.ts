/**
 * What `npm start` runs, as node's arguments: package.json's `start` script is `node`, its
 * flags, then the bundle. The tests and the bench that start the shipped server spawn
 * `process.execPath` with these, so a flag added to the script is run by them too. (The bench
 * is compiled on its own, with this file; it passes its own idea of the root.)
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * The arguments after `node` of the `start` script of the package at `root`, the bundle's
 * path made absolute. Throws when the script does not run node, or when the bundle is not
 * built.
 */
export function npmStartArgs(root: string): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [node, ...args] = pkg.scripts.start.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`npm start runs '${pkg.scripts.start}', not node`);
  const bundle = args.find((a) => !a.startsWith('-'));
  if (!bundle || !fs.existsSync(path.join(root, bundle))) throw new Error(`${bundle ?? 'the bundle'} is missing: run \`npm run build\` first`);
  return args.map((a) => (a === bundle ? path.join(root, a) : a));
}
