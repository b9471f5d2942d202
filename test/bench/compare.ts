/**
 * The comparison with the previous run: `npm run bench` reads the newest results file of the
 * same mode (full or `--quick`) in `test/bench/results/` before writing its own, and prints,
 * for every ratio measured in both runs, the previous ratio and the change. A ratio is a
 * figure's ratio to the Express baseline, or a figure whose unit is itself a ratio (`x`,
 * `×`, `%`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Figure } from './harness.js';

/** A results file as `run.ts` writes it. */
export interface ResultsFile {
  /** When the run ended (ISO 8601). */
  date: string;
  /** The commit measured. */
  commit: string;
  /** Whether it was a `--quick` run. */
  quick: boolean;
  /** Every figure of the run. */
  figures: Figure[];
}

/** One ratio of this run next to the previous run's. */
export interface RatioChange {
  /** `scenario: measure`. */
  label: string;
  /** The previous run's ratio. */
  before: number;
  /** This run's. */
  after: number;
  /** `after / before - 1`, e.g. `0.05` for 5 % higher. */
  change: number;
}

const RATIO_UNITS = new Set(['x', '×', '%']);

/** The ratio a figure carries, if any. */
export function ratioOf(figure: Figure): number | undefined {
  if (figure.ratio !== undefined) return figure.ratio;
  return RATIO_UNITS.has(figure.unit) ? figure.value : undefined;
}

/** The newest results file in `dir` of the given mode, or undefined when there is none. */
export function previousResults(dir: string, quick: boolean): { file: string; results: ResultsFile } | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const names = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.json') && n.endsWith('-quick.json') === quick)
    .sort()
    .reverse();
  for (const name of names) {
    try {
      const results = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as ResultsFile;
      if (Array.isArray(results.figures)) return { file: path.join(dir, name), results };
    } catch {
      // an unreadable file is skipped, the next older one is tried
    }
  }
  return undefined;
}

/** The ratios measured in both runs, in this run's order. */
export function compareRatios(previous: Figure[], current: Figure[]): RatioChange[] {
  const before = new Map<string, number>();
  for (const f of previous) {
    const r = ratioOf(f);
    if (r !== undefined) before.set(`${f.scenario}: ${f.name}`, r);
  }
  const changes: RatioChange[] = [];
  for (const f of current) {
    const label = `${f.scenario}: ${f.name}`;
    const after = ratioOf(f);
    const was = before.get(label);
    if (after === undefined || was === undefined || (f.scenario === 'baseline' && f.ratio === 1)) continue;
    changes.push({ label, before: was, after, change: was === 0 ? 0 : after / was - 1 });
  }
  return changes;
}

/** The comparison as printed lines (a heading and one line per ratio). */
export function formatComparison(previous: ResultsFile, file: string, changes: RatioChange[]): string {
  const head = `Compared with ${file} (${previous.date}, commit ${previous.commit}):`;
  if (changes.length === 0) return `${head} no ratio measured in both runs.\n`;
  const width = Math.max(...changes.map((c) => c.label.length));
  const num = (n: number) => n.toFixed(2);
  const lines = changes.map((c) => `  ${c.label.padEnd(width)}  ${num(c.before).padStart(8)} → ${num(c.after).padStart(8)}  ${(c.change >= 0 ? '+' : '') + (c.change * 100).toFixed(1)} %`);
  return `${head}\n${lines.join('\n')}\n`;
}
