/** Durations as operators type them (`7d`, `12h`, `30m`, `45s`), for `outbox purge --older-than`. */

const UNITS = new Map<string, number>([
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 7 * 86_400_000],
]);

/** Milliseconds of a duration such as `7d`, `12h`, `30m`, `45s` or `2w`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNITS.get(m[2])!;
}
