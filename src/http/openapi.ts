/**
 * The OpenAPI 3.1 document, produced from the same route declarations that validate
 * requests, merged across every plugin, so the documentation cannot drift from the code.
 */
import type { TSchema } from 'typebox';
import type { AuthStrategy } from './auth/strategy.js';
import { joinPath, type PluginHttp } from './dispatcher.js';
import type { AnyRouteDefinition, BodyKind, ResponseSpec } from './route.js';

/** An OpenAPI 3.1 document (the parts Switchboard writes). */
export interface OpenApiDocument {
  /** Always `3.1.0`. */
  openapi: '3.1.0';
  /** Title and version. */
  info: {
    /** The API's title. */
    title: string;
    /** The API's version. */
    version: string;
    /** What the API is. */
    description?: string;
  };
  /** Operations by path and method. */
  paths: Record<string, Record<string, unknown>>;
  /** Security schemes. */
  components: {
    /** Security schemes by name (`<plugin>_<strategy>`). */
    securitySchemes: Record<string, unknown>;
  };
  /** Tags, one per plugin. */
  tags: Array<{
    /** The tag (a plugin id unless a route names its own). */
    name: string;
    /** What it groups. */
    description?: string;
  }>;
}

/** Options of {@link buildOpenApi}. */
export interface OpenApiOptions {
  /** Document title (default `Switchboard`). */
  title?: string;
  /** Document version (default the package's). */
  version?: string;
  /** Description of the whole API. */
  description?: string;
}

const MEDIA: Record<BodyKind, string> = {
  json: 'application/json',
  urlencoded: 'application/x-www-form-urlencoded',
  text: 'text/plain',
  raw: 'application/octet-stream',
};

/** `/rest/:type/:id` → `/rest/{type}/{id}`; optional groups and wildcards become plain parameters. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/[{}]/g, '').replace(/[:*]([A-Za-z0-9_$]+)/g, '{$1}');
}

function schemaProperties(schema: TSchema | undefined): Array<[string, unknown, boolean]> {
  const s = schema as { properties?: Record<string, unknown>; required?: string[] } | undefined;
  if (!s?.properties) return [];
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties).map(([name, prop]) => [name, prop, required.has(name)]);
}

const SCHEMA_KEYS = ['type', 'anyOf', 'oneOf', 'allOf', '$ref', 'const', 'enum', 'not', 'properties', 'items'];

/** True when a {@link ResponseSpec} is the `{ description, schema, contentType }` form. */
function isResponseObject(spec: ResponseSpec): spec is Exclude<ResponseSpec, TSchema> & { description?: string; schema?: TSchema; contentType?: string } {
  const keys = Object.keys(spec);
  return !keys.some((k) => SCHEMA_KEYS.includes(k)) && keys.every((k) => k === 'description' || k === 'schema' || k === 'contentType');
}

function responseObject(spec: ResponseSpec): unknown {
  if (!isResponseObject(spec)) return { description: 'Success', content: { 'application/json': { schema: spec } } };
  const s = spec as { description?: string; schema?: TSchema; contentType?: string };
  return {
    description: s.description ?? 'Response',
    ...(s.schema ? { content: { [s.contentType ?? 'application/json']: { schema: s.schema } } } : {}),
  };
}

function schemeName(pluginId: string, strategy: AuthStrategy): string {
  return `${pluginId}_${strategy.name}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

type AnyRoute = AnyRouteDefinition;

function operation(plugin: PluginHttp, route: AnyRoute, method: string, securitySchemes: Record<string, unknown>, usedIds: Set<string>): unknown {
  const parameters: unknown[] = [];
  for (const [name, schema] of schemaProperties(route.params)) parameters.push({ name, in: 'path', required: true, schema });
  for (const [name, schema, required] of schemaProperties(route.query)) parameters.push({ name, in: 'query', required, schema });
  for (const [name, schema, required] of schemaProperties(route.headers)) parameters.push({ name, in: 'header', required, schema });
  // Path parameters declared only in the path still need an entry.
  const fullPath = joinPath(plugin.prefix, route.path);
  for (const m of fullPath.matchAll(/[:*]([A-Za-z0-9_$]+)/g)) {
    if (!parameters.some((p) => (p as { name: string; in: string }).in === 'path' && (p as { name: string }).name === m[1])) {
      parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    }
  }
  let kinds = route.accepts === undefined ? [] : Array.isArray(route.accepts) ? route.accepts : [route.accepts];
  if (kinds.length === 0 && route.body) kinds = ['json'];
  const requestBody = kinds.length > 0
    ? { required: route.body !== undefined, content: Object.fromEntries(kinds.map((k: BodyKind) => [MEDIA[k], { schema: k === 'json' || k === 'urlencoded' ? (route.body ?? {}) : { type: 'string' } }])) }
    : undefined;
  const strategies = route.auth !== undefined ? (Array.isArray(route.auth) ? route.auth : [route.auth]) : plugin.defaults.auth === undefined ? [] : Array.isArray(plugin.defaults.auth) ? plugin.defaults.auth : [plugin.defaults.auth];
  const security = (strategies as AuthStrategy[]).map((s) => {
    const name = schemeName(plugin.id, s);
    if (s.securityScheme) securitySchemes[name] = s.securityScheme;
    return { [name]: [...(s.scopes ?? [])] };
  });
  const responses = route.responses && Object.keys(route.responses).length > 0
    ? Object.fromEntries(Object.entries(route.responses).map(([status, spec]) => [status, responseObject(spec)]))
    : { default: { description: 'Response' } };
  let operationId = `${plugin.id}_${method}_${fullPath}`.replace(/[^A-Za-z0-9_]+/g, '_').replace(/_+$/, '');
  while (usedIds.has(operationId)) operationId += '_';
  usedIds.add(operationId);
  return {
    operationId,
    tags: route.tags ?? [plugin.id],
    ...(route.summary ? { summary: route.summary } : {}),
    ...(route.description ? { description: route.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    ...(security.length > 0 ? { security } : {}),
    responses,
  };
}

/** Builds the merged OpenAPI 3.1 document of every plugin's routes. */
export function buildOpenApi(surfaces: readonly PluginHttp[], options: OpenApiOptions = {}): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const securitySchemes: Record<string, unknown> = {};
  const usedIds = new Set<string>();
  const tags = new Map<string, { name: string }>();
  for (const plugin of surfaces) {
    for (const route of plugin.routes) {
      if (route.hidden) continue;
      const path = openApiPath(joinPath(plugin.prefix, route.path));
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods as string[]) {
        const m = method.toLowerCase();
        paths[path] ??= {};
        paths[path][m] = operation(plugin, route, m, securitySchemes, usedIds);
        for (const tag of route.tags ?? [plugin.id]) tags.set(tag, { name: tag });
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title ?? 'Switchboard', version: options.version ?? '0.0.0', ...(options.description ? { description: options.description } : {}) },
    paths,
    components: { securitySchemes },
    tags: [...tags.values()],
  };
}
