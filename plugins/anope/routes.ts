/**
 * The wire contract of Anope's REST object API, under `/rest` (relative to the plugin's
 * mount). Bodies of POST and PUT are read raw whatever their content type (`curl -d` sends
 * `application/x-www-form-urlencoded`); POST parses it as JSON itself so that a bad body
 * gets the original's `Unable to parse JSON`.
 */
import { HttpError, reply, Type, type AuthStrategy, type PluginContext } from '../../src/index.js';
import { badJson, noId, noIdOrField, AnopeMessages } from './errors.js';
import { renderObject, renderStringList } from './json-writer.js';
import { streamList } from './list-writer.js';
import { parseId, PAGE_SIZE, type AnopeObjectStore } from './object-store.js';
import { anopeResponder } from './responder.js';

const text = (description: string) => ({ description, schema: Type.String(), contentType: 'text/plain' });
const empty = (description: string) => ({ description });

const TypeParam = Type.String({ description: 'An object type, e.g. `account` (see `/rest/types`).' });
const IdParam = Type.String({ description: 'An object id (ids are global across types).' });
const FieldParam = Type.String({ description: 'A field of the type, e.g. `email`.' });

const WireObjectSchema = Type.Record(Type.String(), Type.String(), {
  description: 'An object: every value is a string, references are written `type:id`, unset fields are left out, and `id` comes last.',
});
const ListSchema = Type.Record(Type.String(), Type.Array(WireObjectSchema), { description: '`{"<type>": [objects…]}`' });

const unauthorized = text('No or wrong credentials (`Unauthorized`).');

/** The methods each resource answers, for OPTIONS and the `Allow` header. */
const ALLOW = {
  types: 'GET, HEAD, OPTIONS',
  type: 'GET, HEAD, POST, OPTIONS',
  object: 'GET, HEAD, DELETE, OPTIONS',
  field: 'GET, HEAD, PUT, OPTIONS',
} as const;

/** Declares every route of the plugin. */
export function registerRoutes(ctx: PluginContext<unknown>, store: AnopeObjectStore, auth: AuthStrategy[], pageSize = PAGE_SIZE): void {
  const registry = store.registry;
  ctx.routes.defaults({
    responder: anopeResponder(),
    auth,
    methodNotAllowed: true,
    // Each issue's message already names where it is (`params/value must …`).
    onValidationError: (issues) => new HttpError(400, `Invalid request: ${issues.map((i) => i.message).join('; ')}`),
  });
  ctx.routes.notFoundUnder('/rest');

  ctx.routes.add({
    method: 'GET',
    path: '/rest/types',
    summary: 'Lists the object types',
    responses: { 200: Type.Object({ types: Type.Array(Type.String()) }), 401: unauthorized },
    handler: () => renderStringList('types', registry.names()),
  });

  ctx.routes.add({
    method: 'GET',
    path: '/rest/:type',
    summary: 'Lists every object of a type (streamed)',
    params: Type.Object({ type: TypeParam }),
    responses: { 200: ListSchema, 401: unauthorized, 404: text('`Unknown type`') },
    handler: async ({ params, req, res }) => {
      const type = store.type(params.type);
      await streamList(req, res, type.name, pageSize, (after) => store.page(type.name, after, pageSize));
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: '/rest/:type/:id',
    summary: 'Reads an object, or with `refs` the objects of another type that reference it',
    params: Type.Object({ type: TypeParam, id: IdParam }),
    query: Type.Object({
      refs: Type.Optional(Type.String({ description: 'A type: answers `{"<type>": [objects of refs that reference this object through any reference field]}`.' })),
    }),
    responses: {
      200: { description: 'The object; with `refs`, the referencing objects under the queried type\'s name', schema: Type.Union([WireObjectSchema, ListSchema]) },
      400: text('`Invalid id`'),
      401: unauthorized,
      404: text('`Unknown type`, `Not found`, `Type/id mismatch` or `Unknown reference type`'),
    },
    handler: async ({ params, query, req, res }) => {
      store.type(params.type);
      const id = parseId(params.id);
      if (query.refs !== undefined) {
        const { refType, filter } = await store.refsFilter(params.type, id, query.refs);
        await streamList(req, res, params.type, pageSize, (after) => store.page(refType.name, after, pageSize, filter));
        return undefined;
      }
      return renderObject(await store.get(params.type, id));
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: '/rest/:type/:field/:value',
    summary: 'Finds the object whose field equals a value',
    description: 'Names (account display, nick, channel name, bot nick) match case-insensitively; references are searched as `type:id`. The first search on a field without an index creates one.',
    params: Type.Object({ type: TypeParam, field: FieldParam, value: Type.String({ description: 'The value to find.' }) }),
    responses: { 200: WireObjectSchema, 401: unauthorized, 404: text('`Unknown type`, `No such field` or `Not found`') },
    handler: async ({ params }) => renderObject(await store.find(params.type, params.field, params.value)),
  });

  ctx.routes.add({
    method: 'PUT',
    path: '/rest/:type/:id/:field',
    summary: 'Sets one field of an object to the raw request body',
    description: 'The body is the new value as is, whatever the content type; an empty body clears the field. References are written `type:id`.',
    params: Type.Object({ type: TypeParam, id: IdParam, field: FieldParam }),
    accepts: 'text',
    responses: {
      200: empty('Updated (empty body)'),
      400: text('`Invalid id`, `No such field`, or a bad value or reference'),
      401: unauthorized,
      404: text('`Unknown type`, `Not found` or `Type/id mismatch`'),
    },
    handler: async ({ params, body }) => {
      store.type(params.type);
      const id = parseId(params.id);
      await store.update(params.type, id, params.field, typeof body === 'string' ? body : '');
      return undefined;
    },
  });

  for (const path of ['/rest/:type', '/rest/:type/:id']) {
    ctx.routes.add({
      method: 'PUT',
      path,
      summary: 'Refused: a PUT names an id and a field',
      params: path.endsWith(':id') ? Type.Object({ type: TypeParam, id: IdParam }) : Type.Object({ type: TypeParam }),
      responses: { 400: text('`No id and/or field`'), 401: unauthorized, 404: text('`Unknown type`') },
      handler: ({ params }) => {
        store.type(params.type);
        throw noIdOrField();
      },
    });
  }

  ctx.routes.add({
    method: 'POST',
    path: '/rest/:type',
    summary: 'Creates an object from a JSON object of its fields',
    description: 'The body is read as JSON whatever the content type. Values are strings (numbers and booleans are converted, null or "" leaves a field unset); references are `type:id` and must exist with an allowed type. Answers 201 with the bare new id.',
    params: Type.Object({ type: TypeParam }),
    accepts: 'text',
    responses: {
      201: { description: 'The new id, bare (e.g. `126`)', schema: Type.Integer() },
      400: text('`Unable to parse JSON`, `No such field <name>`, or a bad value or reference'),
      401: unauthorized,
      404: text('`Unknown type`'),
    },
    handler: async ({ params, body }) => {
      const type = store.type(params.type);
      let input: unknown;
      try {
        input = JSON.parse(typeof body === 'string' ? body : '');
      } catch {
        throw badJson();
      }
      if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badJson(AnopeMessages.notObject);
      return reply(201, await store.create(type.name, input as Record<string, unknown>));
    },
  });

  ctx.routes.add({
    method: 'DELETE',
    path: '/rest/:type/:id',
    summary: 'Deletes an object; the database cascades to the objects that depend on it',
    params: Type.Object({ type: TypeParam, id: IdParam }),
    responses: { 200: empty('Deleted (empty body)'), 400: text('`Invalid id`'), 401: unauthorized, 404: text('`Unknown type`, `Not found` or `Type/id mismatch`') },
    handler: async ({ params }) => {
      store.type(params.type);
      await store.delete(params.type, parseId(params.id));
      return undefined;
    },
  });

  ctx.routes.add({
    method: 'DELETE',
    path: '/rest/:type',
    summary: 'Refused: a DELETE names an id',
    params: Type.Object({ type: TypeParam }),
    responses: { 400: text('`No id`'), 401: unauthorized, 404: text('`Unknown type`') },
    handler: ({ params }) => {
      store.type(params.type);
      throw noId();
    },
  });

  const options: Array<[string, string]> = [
    ['/rest/types', ALLOW.types],
    ['/rest/:type', ALLOW.type],
    ['/rest/:type/:id', ALLOW.object],
    ['/rest/:type/:id/:field', ALLOW.field],
  ];
  for (const [path, allow] of options) {
    ctx.routes.add({
      method: 'OPTIONS',
      path,
      summary: 'The methods this resource answers (no auth, no body)',
      auth: [],
      responses: { 204: empty(`No content; \`Allow: ${allow}\``) },
      handler: () => reply(204, undefined, { Allow: allow }),
    });
  }
}
