/**
 * The regex parser: opsdroid's `match_regex` semantics on JavaScript regular expressions.
 * Expressions may be written in Python's syntax (`(?P<name>…)`, `(?P=name)`, `\A`, `\Z`),
 * as opsdroid skills are; the matching condition (`match`, `search`, `fullmatch`,
 * `findall`) and the score (longer expressions rank higher) are opsdroid's.
 */

/** How an expression is applied to a message (opsdroid's `matching_condition`). */
export type RegexCondition = 'match' | 'search' | 'fullmatch' | 'findall';

/** opsdroid's default `score_factor` for regex skills. */
export const REGEX_SCORE_FACTOR = 0.6;

/** Translates Python regex syntax that JavaScript spells differently. */
export function pythonToJsRegex(source: string): string {
  return source
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
}

/** A compiled regex matcher. */
export interface CompiledRegex {
  /** The expression as written (the score depends on its length). */
  readonly expression: string;
  /** The matching condition. */
  readonly condition: RegexCondition;
  /** Matches a text: the matches (one, or every one for `findall`), or null. */
  exec(text: string): RegExpExecArray[] | null;
  /** The score of a match (opsdroid's formula). */
  readonly score: number;
}

/**
 * Compiles an expression for a condition. Throws a SyntaxError for an invalid expression.
 *
 * @param expression - a regex source (Python syntax accepted) or a RegExp (its source and `i` flag are used)
 */
export function compileRegex(expression: string | RegExp, caseSensitive: boolean, condition: RegexCondition, scoreFactor: number): CompiledRegex {
  const source = typeof expression === 'string' ? pythonToJsRegex(expression) : expression.source;
  const flags = caseSensitive && !(expression instanceof RegExp && expression.flags.includes('i')) ? '' : 'i';
  const written = typeof expression === 'string' ? expression : expression.source;
  let re: RegExp;
  switch (condition) {
    case 'match':
      re = new RegExp(`^(?:${source})`, flags);
      break;
    case 'fullmatch':
      re = new RegExp(`^(?:${source})$`, flags);
      break;
    case 'search':
      re = new RegExp(source, flags);
      break;
    case 'findall':
      re = new RegExp(source, `${flags}g`);
      break;
  }
  return {
    expression: written,
    condition,
    // The score approaches the factor as the expression gets longer.
    score: (1 - 1 / (written.length + 1) ** 2) * scoreFactor,
    exec(text: string) {
      if (condition === 'findall') {
        const all = [...text.matchAll(re)] as RegExpExecArray[];
        return all.length > 0 ? all : null;
      }
      re.lastIndex = 0;
      const match = re.exec(text);
      return match ? [match] : null;
    },
  };
}
