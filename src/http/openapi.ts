/**
 * The OpenAPI 3.1 document, produced from the same route declarations that validate
 * requests, merged across every plugin, so the documentation cannot drift from the code.
 */
import type { TSchema } from 'typebox';
import type { AuthStrategy } from './auth/strategy.js';
import { joinPath, type PluginHttp } from './dispatcher.js';
import { responseContent, type AnyRouteDefinition, type BodyKind, type ResponseSpec } from './route.js';

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
  /**
   * Where the API is served: by default `/`, the server the document was fetched from (the
   * paths already carry the kernel's mount).
   */
  servers: Array<{
    /** An absolute URL, or one relative to where the document is served. */
    url: string;
    /** Which server it is. */
    description?: string;
  }>;
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
  /** The `servers` entries (default: `/`, the server the document is fetched from). */
  servers?: OpenApiDocument['servers'];
}

/** The `servers` entry of a document whose paths are relative to where it is served. */
export const SAME_SERVER: Readonly<OpenApiDocument['servers'][number]> = { url: '/', description: 'The server this document is served by' };

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

function responseObject(spec: ResponseSpec): unknown {
  const content = responseContent(spec);
  // A bare schema is documented as a success; the long form with its own description.
  const long = content.schema !== spec;
  return {
    description: long ? (content.description ?? 'Response') : 'Success',
    ...(content.schema ? { content: { [content.contentType]: { schema: content.schema } } } : {}),
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

/** The names of a path template's parameters, in order (`/a/{x}/{y}` → `x`, `y`). */
function templateNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

/** A path template with its parameters unnamed (`/a/{x}` → `/a/{}`): OpenAPI calls templates equal on this. */
export function templateShape(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}');
}

/**
 * One template per shape. OpenAPI 3.1 forbids two paths that differ only in their
 * parameters' names (`/rest/{type}/{field}/{value}` and `/rest/{type}/{id}/{field}`), so
 * such routes share one path whose parameter at each position is named after every name
 * used there (`{field_or_id}`); each operation describes what its parameter is.
 */
function sharedTemplates(paths: readonly string[]): Map<string, string> {
  const byShape = new Map<string, string[][]>();
  for (const path of paths) {
    const names = templateNames(path);
    const shape = templateShape(path);
    const seen = byShape.get(shape);
    if (!seen) byShape.set(shape, names.map((n) => [n]));
    else names.forEach((n, i) => void (seen[i].includes(n) || seen[i].push(n)));
  }
  const result = new Map<string, string>();
  for (const path of paths) {
    const names = byShape.get(templateShape(path))!;
    let i = 0;
    result.set(path, path.replace(/\{[^}]+\}/g, () => `{${names[i++].join('_or_')}}`));
  }
  return result;
}

/** Renames an operation's path parameters to the shared template's, saying which name it had. */
function renameParameters(op: { parameters?: Array<{ name: string; in: string; description?: string; schema?: { description?: string } }> }, own: string, shared: string): void {
  const from = templateNames(own);
  const to = templateNames(shared);
  for (const p of op.parameters ?? []) {
    const i = p.in === 'path' ? from.indexOf(p.name) : -1;
    if (i < 0 || to[i] === p.name) continue;
    const what = p.description ?? p.schema?.description;
    p.description = `${what ? `${what} ` : ''}(\`${p.name}\` in this operation; the path \`${shared}\` is shared with operations that read this segment differently.)`;
    p.name = to[i];
  }
}

/** Builds the merged OpenAPI 3.1 document of every plugin's routes. */
export function buildOpenApi(surfaces: readonly PluginHttp[], options: OpenApiOptions = {}): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const securitySchemes: Record<string, unknown> = {};
  const usedIds = new Set<string>();
  const tags = new Map<string, { name: string }>();
  const visible = surfaces.flatMap((plugin) => plugin.routes.filter((r) => !r.hidden).map((route) => ({ plugin, route, path: openApiPath(joinPath(plugin.prefix, route.path)) })));
  const shared = sharedTemplates(visible.map((v) => v.path));
  for (const { plugin, route, path: own } of visible) {
    const path = shared.get(own)!;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods as string[]) {
      const m = method.toLowerCase();
      const op = operation(plugin, route, m, securitySchemes, usedIds) as Parameters<typeof renameParameters>[0];
      if (path !== own) renameParameters(op, own, path);
      paths[path] ??= {};
      paths[path][m] = op;
      for (const tag of route.tags ?? [plugin.id]) tags.set(tag, { name: tag });
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title ?? 'Switchboard', version: options.version ?? '0.0.0', ...(options.description ? { description: options.description } : {}) },
    servers: options.servers ?? [{ ...SAME_SERVER }],
    paths,
    components: { securitySchemes },
    tags: [...tags.values()],
  };
}
