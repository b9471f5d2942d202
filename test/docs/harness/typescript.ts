/**
 * Type-checks the TypeScript blocks of a page in a scratch host: a directory that installed
 * the package (see prepareProjectDir), where each block is one module file, strict, ESM
 * (NodeNext), Node 20's types. A block that uses names its page introduced in the prose
 * before it (`kernel`, `app` …) declares them in a hidden prelude, an HTML comment right
 * above the block (`<!-- docs-test prelude: declare const kernel: Kernel; -->`), the way
 * Rust hides the setup lines of its doc examples.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Block } from './markdown.js';
import { REPO } from './run-page.js';

/** A compiler error, placed at a line of the page. */
export interface TsError {
  block: Block;
  /** 1-based line in the page (0 when the error is in the prelude). */
  line: number;
  message: string;
}

/** Type-checks the blocks in `dir` (a project dir); `files` are extra modules of the host. */
export async function typecheckBlocks(blocks: Block[], dir: string, files: Record<string, string> = {}): Promise<TsError[]> {
  if (blocks.length === 0) return [];
  const host = path.join(dir, 'ts-host');
  fs.mkdirSync(host, { recursive: true });
  fs.writeFileSync(path.join(host, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.writeFileSync(
    path.join(host, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        types: ['node'],
        noEmit: true,
        // The package's own .d.ts files are checked by test/package/ (a host with only the
        // peer packages); here the blocks are what is under test.
        skipLibCheck: true,
      },
      include: ['*.ts'],
    }),
  );
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(host, name), text);
  const byFile = new Map<string, { block: Block; offset: number }>();
  for (const block of blocks) {
    const name = `block-L${block.line}.ts`;
    const prelude = block.prelude ? `${block.prelude}\n` : '';
    // Each block is a module of its own, even when it has no import or export.
    fs.writeFileSync(path.join(host, name), `${prelude}${block.text}export {};\n`);
    byFile.set(name, { block, offset: prelude.split('\n').length - 1 });
  }
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', host, '--pretty', 'false'], { cwd: host, maxBuffer: 1 << 24 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }),
  );
  const errors: TsError[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(block-L\d+\.ts)\((\d+),\d+\): (error .*)$/.exec(line);
    if (m && byFile.has(m[1])) {
      const { block, offset } = byFile.get(m[1])!;
      const inBlock = Number(m[2]) - offset;
      errors.push({ block, line: inBlock > 0 ? block.line + inBlock : 0, message: m[3] });
    } else if (/error TS/.test(line)) {
      errors.push({ block: blocks[0], line: 0, message: line });
    }
  }
  return errors;
}
