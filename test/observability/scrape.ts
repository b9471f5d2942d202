/** Scraping helpers for the observability tests: a Prometheus text scrape, parsed, and its samples by labels. */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/** A parsed scrape. */
export class Scrape {
  private readonly families = new Map<string, ParsedFamily>();

  constructor(readonly text: string) {
    for (const f of parsePrometheusTextFormat(text)) this.families.set(f.name, f);
  }

  /** The metric family, or undefined. */
  family(name: string): ParsedFamily | undefined {
    return this.families.get(name);
  }

  /**
   * The value of the sample whose labels include `labels` (a histogram's count), or 0 when
   * there is none; every matching sample is summed.
   */
  value(name: string, labels: Record<string, string> = {}): number {
    const family = this.families.get(name);
    if (!family) return 0;
    let total = 0;
    for (const m of family.metrics) {
      const has = m.labels ?? {};
      if (Object.entries(labels).every(([k, v]) => has[k] === v)) total += Number(m.value ?? m.count ?? 0);
    }
    return total;
  }

  /**
   * A histogram's observation count over the series whose labels include `labels`, read from
   * its `_count` lines (the parser keeps a labelled histogram's buckets but not its labels).
   */
  histogramCount(name: string, labels: Record<string, string> = {}): number {
    let total = 0;
    for (const line of this.text.split('\n')) {
      const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
      if (!m || m[1] !== `${name}_count`) continue;
      const has = new Map([...m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      if (Object.entries(labels).every(([k, v]) => has.get(k) === v)) total += Number(m[3]);
    }
    return total;
  }

  /** Every label set of a family. */
  labels(name: string): Array<Record<string, string>> {
    return (this.families.get(name)?.metrics ?? []).map((m) => m.labels ?? {});
  }
}

/** Fetches and parses `url` (a `/metrics` endpoint). */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`scrape of ${url} answered ${res.status}`);
  return new Scrape(await res.text());
}

/** Polls `check` until it returns true (or fails after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
