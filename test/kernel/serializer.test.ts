/**
 * Response serializers compiled from schemas: the text of JSON.stringify, without the
 * fields the schema does not declare; loose schemas fall back to JSON.stringify.
 */
import t from 'tap';
import { compileSerializer, Type } from '../../src/index.js';

const Bot = Type.Object({ id: Type.Integer(), name: Type.String(), tags: Type.Optional(Type.Array(Type.String())) });

t.test('undeclared fields are left out, at every depth; the rest is JSON.stringify text in the value order', async (t) => {
  const serialize = compileSerializer(Type.Object({ bots: Type.Array(Bot), total: Type.Integer() }))!;
  t.type(serialize, 'function');
  const value = { total: 2, secret: 'hash', bots: [{ name: 'a', id: 1, password: 'x', tags: ['t'] }, { id: 2, name: 'b"\u2028<', nested: { deep: 1 } }] };
  const text = serialize(value);
  t.equal(text, '{"total":2,"bots":[{"name":"a","id":1,"tags":["t"]},{"id":2,"name":"b\\"\u2028<"}]}');
  t.same(JSON.parse(text), { total: 2, bots: [{ name: 'a', id: 1, tags: ['t'] }, { id: 2, name: 'b"\u2028<' }] });
  // A value with only declared fields is written exactly as JSON.stringify writes it.
  const clean = { bots: [{ id: 1, name: 'a', tags: [] }], total: 1 };
  t.equal(serialize(clean), JSON.stringify(clean));
});

t.test('JSON.stringify semantics are kept: undefined and functions, toJSON, null, non-finite numbers', async (t) => {
  const serialize = compileSerializer(Type.Object({ a: Type.Optional(Type.String()), f: Type.Optional(Type.Any()), at: Type.String(), n: Type.Number(), list: Type.Array(Type.Object({ x: Type.Integer() })) }))!;
  const at = new Date('2026-01-02T03:04:05.000Z');
  const value = { a: undefined, f: () => 1, at, n: Number.NaN, list: [{ x: 1, y: 2 }, undefined, null] };
  t.equal(serialize(value), JSON.stringify({ at, n: Number.NaN, list: [{ x: 1 }, null, null] }));
  t.equal(serialize(null), 'null');
  // A whole body with toJSON.
  const whole = compileSerializer(Type.Object({ x: Type.Integer() }))!;
  t.equal(whole({ toJSON: () => ({ x: 1, y: 2 }) }), '{"x":1}');
});

t.test('a property named __proto__ is a property like any other', async (t) => {
  const serialize = compileSerializer(Type.Object({ ok: Type.Boolean() }))!;
  const value = JSON.parse('{"__proto__": {"polluted": true}, "ok": true}') as object;
  t.equal(serialize(value), '{"ok":true}');
  t.equal(({} as { polluted?: boolean }).polluted, undefined);
});

t.test('unions are written by the member of the value\'s JSON kind', async (t) => {
  // redball's envelope: response is the data or "", errors "" or a list.
  const serialize = compileSerializer(
    Type.Object({
      errors: Type.Union([Type.Literal(''), Type.Array(Type.String())]),
      response: Type.Union([Type.Object({ bots: Type.Array(Bot) }), Type.Literal('')]),
    }),
  )!;
  t.equal(serialize({ errors: '', response: { bots: [{ id: 1, name: 'a', key: 'k' }], extra: 1 } }), '{"errors":"","response":{"bots":[{"id":1,"name":"a"}]}}');
  t.equal(serialize({ errors: ['400 Bad Request'], response: '' }), '{"errors":["400 Bad Request"],"response":""}');
  // Two object members cannot be told apart: that value is written as it is.
  const ambiguous = compileSerializer(Type.Object({ v: Type.Union([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.Integer() })]) }))!;
  t.equal(ambiguous({ v: { a: 1, b: 2, c: 3 }, w: 1 }), '{"v":{"a":1,"b":2,"c":3}}');
});

t.test('loose schemas write every field: no schema, Unknown, additionalProperties, Record, Intersect', async (t) => {
  t.equal(compileSerializer(undefined), undefined);
  t.equal(compileSerializer(Type.Unknown()), undefined);
  t.equal(compileSerializer(Type.String()), undefined);
  t.equal(compileSerializer(Type.Object({ a: Type.Integer() }, { additionalProperties: true })), undefined);
  t.equal(compileSerializer(Type.Record(Type.String(), Type.Integer())), undefined);
  t.equal(compileSerializer(Type.Array(Type.Unknown())), undefined);
  t.equal(compileSerializer(Type.Intersect([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.Integer() })])), undefined);
  // A loose part inside a strict object is written whole; the object's own fields are still checked.
  const mixed = compileSerializer(Type.Object({ meta: Type.Record(Type.String(), Type.Unknown()), id: Type.Integer() }))!;
  t.equal(mixed({ id: 1, meta: { anything: { goes: true } }, hidden: 1 }), '{"id":1,"meta":{"anything":{"goes":true}}}');
});

t.test('a value of another kind than its schema is written by JSON.stringify', async (t) => {
  const serialize = compileSerializer(Type.Object({ list: Type.Array(Type.Object({ a: Type.Integer() })), one: Type.Object({ a: Type.Integer() }) }))!;
  t.equal(serialize({ list: 'none', one: 3 }), '{"list":"none","one":3}');
  t.equal(serialize('text'), '"text"');
});
