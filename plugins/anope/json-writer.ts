/**
 * JSON as Anope writes it: every value a string (ids included), references as `type:id`,
 * unset fields left out, `"id"` last, indented by two spaces per level. The documentation's
 * examples are this output with the line breaks folded.
 */

/** An object as the store reads it: its id and its set fields, already in wire form. */
export interface WireObject {
  /** The object's id. */
  id: string;
  /** Field values in the type's order (references as `type:id`), unset fields absent. */
  fields: Array<[string, string]>;
}

const PADS = ['', '  ', '    ', '      ', '        '];

function pad(level: number): string {
  return PADS[level] ?? ' '.repeat(level * 2);
}

/** Writes one object indented at `level` (its braces at that level, members one deeper). */
export function renderObject(obj: WireObject, level = 0): string {
  const inner = pad(level + 1);
  let out = '{\n';
  for (const [name, value] of obj.fields) out += `${inner}${JSON.stringify(name)}: ${JSON.stringify(value)},\n`;
  return `${out}${inner}"id": ${JSON.stringify(obj.id)}\n${pad(level)}}`;
}

/** The opening of `{"<key>": [` before the items of a list. */
export function listOpening(key: string): string {
  return `{\n  ${JSON.stringify(key)}: [`;
}

/** One list item, with its separator (`first` has none). */
export function listItem(obj: WireObject, first: boolean): string {
  return `${first ? '\n' : ',\n'}    ${renderObject(obj, 2)}`;
}

/** The closing of a list; an empty list is written `[]`. */
export function listClosing(empty: boolean): string {
  return empty ? ']\n}' : '\n  ]\n}';
}

/** `{"types": [...]}` and other lists of strings. */
export function renderStringList(key: string, values: readonly string[]): string {
  if (values.length === 0) return `${listOpening(key)}]\n}`;
  return `${listOpening(key)}\n${values.map((v) => `    ${JSON.stringify(v)}`).join(',\n')}\n  ]\n}`;
}
