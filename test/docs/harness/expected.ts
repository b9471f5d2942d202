/**
 * How the docs tests compare what a command printed with what the page says it prints.
 *
 * The expected text must appear in the output; `…` (one character, U+2026) stands for any
 * text, and white space is ignored on both sides (so pretty-printed JSON in the page matches
 * compact JSON on the wire, and a line break in the page matches none). This is deliberately
 * a containment check: `# → {"result": true}` after a redball call matches the whole
 * envelope around it, and an error answer does not contain it.
 */

/** The pattern an expected text stands for. */
export function expectedPattern(expected: string): RegExp {
  const parts = expected
    .replace(/\s+/g, '')
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(parts.join('[\\s\\S]*?'));
}

/** Whether the output shows the expected text. */
export function showsExpected(output: string, expected: string): boolean {
  return expectedPattern(expected).test(output.replace(/\s+/g, ''));
}
