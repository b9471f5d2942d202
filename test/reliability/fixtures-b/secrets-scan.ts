/**
 * The secrets-hygiene scan: every secret recorded by the test kernels and standalone
 * children of a run (see src/testing/log-capture.ts) is looked for in every log line they
 * wrote. Used by the check after the test run (secrets-after.ts) and by its own tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The capture directory of the tap run this process belongs to (its parent is tap's runner). */
export function runLogDir(runnerPid: number = process.ppid): string {
  return path.join(os.tmpdir(), 'swb-test-logs', `run-${runnerPid}`);
}

/** A recorded secret found in a log. */
export interface Finding {
  /** The secret, masked: its first characters and its length. */
  secret: string;
  /** Where it was recorded from (registry, a config key, a request field, a column). */
  sources: string[];
  /** The log file. */
  file: string;
  /** The first line (1-based) it appears in. */
  line: number;
  /** That line, with the secret replaced by `<SECRET>`, shortened. */
  excerpt: string;
  /** How many lines of the file hold it. */
  lines: number;
}

/** What a scan found. */
export interface ScanResult {
  /** Log files read. */
  files: number;
  /** Log lines read. */
  lines: number;
  /** Distinct secrets looked for. */
  secrets: number;
  /** Secrets by where they were recorded from (registry, config, credentials presented, request, answer, database). */
  bySource: Record<string, number>;
  /** Secrets found in logs. */
  findings: Finding[];
}

/** Masks a secret for printing: never print a secret, even a test one, in full. */
export function mask(secret: string): string {
  return `${secret.slice(0, 3)}… (${secret.length} characters)`;
}

const PREFIX = 8;

function sourceKind(source: string): string {
  if (source === 'registry') return 'registry';
  if (source.startsWith('config ')) return 'config';
  if (source.startsWith('database')) return 'database';
  if (source === 'DATABASE_URL') return 'config';
  if (/ header authorization/.test(source)) return 'credentials presented';
  if (/ query /.test(source) || / request/.test(source)) return 'request';
  if (/ answer/.test(source)) return 'answer';
  return 'other';
}

/** Reads every `.secrets` and `.log` file of `dir` and reports each secret found in a log line. */
export function scanLogDir(dir: string): ScanResult {
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const secrets = new Map<string, Set<string>>();
  for (const name of entries.filter((n) => n.endsWith('.secrets'))) {
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const { secret, source } = JSON.parse(line) as { secret: string; source: string };
        if (typeof secret !== 'string' || secret.length < PREFIX) continue;
        let set = secrets.get(secret);
        if (!set) secrets.set(secret, (set = new Set()));
        set.add(source);
      } catch {
        // a line cut by a killed process
      }
    }
  }
  const bySource: Record<string, number> = {};
  for (const sources of secrets.values()) {
    for (const kind of new Set([...sources].map(sourceKind))) bySource[kind] = (bySource[kind] ?? 0) + 1;
  }
  // Every secret indexed by its first characters: one pass over each log finds them all.
  const byPrefix = new Map<string, string[]>();
  for (const secret of secrets.keys()) {
    const p = secret.slice(0, PREFIX);
    const list = byPrefix.get(p) ?? [];
    list.push(secret);
    byPrefix.set(p, list);
  }
  let files = 0;
  let lines = 0;
  const findings: Finding[] = [];
  for (const name of entries.filter((n) => n.endsWith('.log')).sort()) {
    files++;
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const lineStarts: number[] = [0];
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    lines += lineStarts.length - (text.endsWith('\n') || text.length === 0 ? 1 : 0);
    const found = new Map<string, number[]>();
    if (byPrefix.size > 0) {
      for (let i = 0; i + PREFIX <= text.length; i++) {
        const candidates = byPrefix.get(text.substr(i, PREFIX));
        if (!candidates) continue;
        for (const secret of candidates) {
          if (text.startsWith(secret, i)) {
            const at = found.get(secret) ?? [];
            at.push(i);
            found.set(secret, at);
          }
        }
      }
    }
    for (const [secret, positions] of found) {
      const lineOf = (pos: number) => {
        let lo = 0;
        let hi = lineStarts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (lineStarts[mid] <= pos) lo = mid;
          else hi = mid - 1;
        }
        return lo;
      };
      const first = lineOf(positions[0]);
      const end = text.indexOf('\n', lineStarts[first]);
      const lineText = text.slice(lineStarts[first], end === -1 ? text.length : end);
      findings.push({
        secret: mask(secret),
        sources: [...secrets.get(secret)!].slice(0, 5),
        file: name,
        line: first + 1,
        excerpt: lineText.split(secret).join('<SECRET>').slice(0, 400),
        lines: new Set(positions.map(lineOf)).size,
      });
    }
  }
  return { files, lines, secrets: secrets.size, bySource, findings };
}
