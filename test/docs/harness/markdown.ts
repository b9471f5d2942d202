/**
 * Reads the fenced code blocks of a Markdown page, with what the docs tests need to know about
 * each: its kind, the visible "not run" marker above it, a hidden TypeScript prelude, and the
 * expected output that follows it. The format is described in docs/writing-a-plugin.md
 * ("Documentation is tested") and at the top of test/docs/harness/page-test.ts.
 */

/** What the docs tests do with a block. */
export type BlockKind =
  /** Run in bash, in order, sharing one shell with the page's other shell blocks. */
  | 'shell'
  /** Run with node as an ES module in the page's directory (or saved as a file: see `file`). */
  | 'js'
  /** Type-checked in a scratch host that has the package installed. */
  | 'ts'
  /** Quoted from a file of the repository (```ts file=path): must appear in it verbatim. */
  | 'quoted'
  /** A configuration: checked by the `switchboard` CLI against a throwaway database. */
  | 'yaml'
  /** A JSON document: must parse. */
  | 'json'
  /** The expected output of the block before it (an info string with the word `output`). */
  | 'output'
  /** Anything else (text, diagrams, listings): must be marked or be an expected output. */
  | 'other';

/** One fenced code block of a page. */
export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`sh`, `ts`, `json` …), lower-cased; '' when none. */
  lang: string;
  /** Every word of the info string. */
  info: string[];
  /** What the tests do with it. */
  kind: BlockKind;
  /** Its text, ending with a newline (as between the fences). */
  text: string;
  /** The reason given by a visible `> Not run by the docs tests: …` line right above it. */
  marked?: string;
  /** Hidden TypeScript put before a `ts` block when it is type-checked (`<!-- docs-test prelude: … -->`). */
  prelude?: string;
  /** For js/ts blocks whose first line is a comment naming a file (`// bots/countdown.mjs …`): that path. */
  file?: string;
  /** For `quoted` blocks: the repository file they are quoted from. */
  quotedFrom?: string;
  /** The expected-output block that follows this block, when there is one. */
  output?: Block;
}

/** The visible marker of a block the docs tests do not run. */
export const NOT_RUN = /^>\s*Not run by the docs tests:\s*(.+)$/;
const PRELUDE = /^<!--\s*docs-test prelude:\s*([\s\S]*?)-->\s*$/;
const FENCE = /^(`{3,}|~{3,})\s*(.*)$/;
const FILE_COMMENT = /^\/\/\s*((?:[\w.-]+\/)*[\w.-]+\.(?:mjs|js|cjs|ts|mts))(?:\s|$)/;

function kindOf(lang: string, info: string[]): BlockKind {
  if (info.includes('output')) return 'output';
  if (['sh', 'bash', 'shell'].includes(lang)) return 'shell';
  if (['js', 'mjs', 'javascript'].includes(lang)) return 'js';
  if (['ts', 'typescript'].includes(lang)) return info.some((w) => w.startsWith('file=')) ? 'quoted' : 'ts';
  if (['yaml', 'yml'].includes(lang)) return 'yaml';
  if (lang === 'json') return 'json';
  return 'other';
}

/** The blocks of a Markdown text, in order. Output blocks are attached to the block before them. */
export function parseBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let previous: Block | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const info = open[2].trim().split(/\s+/).filter(Boolean);
    const lang = (info[0] ?? '').toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j].startsWith(fence[0].repeat(fence.length)) && lines[j].trim().replace(/[`~]/g, '') === '')) body.push(lines[j++]);
    if (j >= lines.length) throw new Error(`line ${i + 1}: the code block is never closed`);
    const block: Block = { line: i + 1, lang, info, kind: kindOf(lang, info), text: body.length ? `${body.join('\n')}\n` : '' };
    // What stands right above the fence: a hidden prelude, then a visible marker (blank lines between are fine).
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const prelude = k >= 0 ? collectComment(lines, k) : undefined;
    if (prelude) {
      block.prelude = prelude.text;
      k = prelude.start - 1;
      while (k >= 0 && lines[k].trim() === '') k--;
    }
    if (k >= 0) {
      // A marker is one blockquote paragraph whose first line says "Not run by the docs tests:".
      let start = k;
      while (start > 0 && lines[start - 1].startsWith('>')) start--;
      const first = NOT_RUN.exec(lines[start]);
      if (first && lines.slice(start, k + 1).every((l) => l.startsWith('>'))) {
        block.marked = [first[1], ...lines.slice(start + 1, k + 1).map((l) => l.replace(/^>\s?/, ''))].join(' ').trim();
      }
    }
    const fileComment = (block.kind === 'js' || block.kind === 'ts') && FILE_COMMENT.exec(body[0] ?? '');
    if (fileComment) block.file = fileComment[1];
    const quoted = info.find((w) => w.startsWith('file='));
    if (quoted) block.quotedFrom = quoted.slice('file='.length);
    if (block.kind === 'output') {
      if (!previous || previous.output || !['shell', 'js'].includes(previous.kind)) {
        throw new Error(`line ${block.line}: an output block must follow a shell or js block`);
      }
      previous.output = block;
    }
    blocks.push(block);
    previous = block;
    i = j;
  }
  return blocks;
}

function collectComment(lines: string[], end: number): { text: string; start: number } | undefined {
  if (!lines[end].trimEnd().endsWith('-->')) return undefined;
  let start = end;
  while (start >= 0 && !lines[start].startsWith('<!--')) start--;
  if (start < 0) return undefined;
  const m = PRELUDE.exec(lines.slice(start, end + 1).join('\n'));
  return m ? { text: m[1].trim(), start } : undefined;
}
