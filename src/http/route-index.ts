/**
 * The index the dispatcher finds a request's route in. Routes are keyed by their literal
 * first path segment (lower case), so a request is only matched against the routes that
 * share its first segment and the routes whose first segment is dynamic, and the cost does
 * not grow with the number of plugins. Among the candidates, the first declared wins.
 */
import type { CompiledRoute, PluginHttp } from './compiled-route.js';

/** The outcome of a lookup. */
export interface RouteLookup {
  /** The route that serves the method and path, and its raw path parameters. */
  found?: { route: CompiledRoute; params: Record<string, string | string[]> };
  /** When no route serves the method: the first route whose path matches (for 405 and hooks). */
  pathMatch?: CompiledRoute;
}

/** The literal first segment of a route path, lower-cased, or null when it is dynamic. */
function firstSegment(path: string): string | null {
  const seg = path.split('/')[1] ?? '';
  return /[:*{}()]/.test(seg) ? null : seg.toLowerCase();
}

/** Routes indexed by first path segment. */
export class RouteIndex {
  private readonly byFirstSegment = new Map<string, CompiledRoute[]>();
  private readonly dynamic: CompiledRoute[] = [];

  /** @param routes - every compiled route, in declaration order */
  constructor(private readonly routes: readonly CompiledRoute[]) {
    for (const route of routes) {
      const seg = firstSegment(route.fullPath);
      if (seg === null) this.dynamic.push(route);
      else {
        const list = this.byFirstSegment.get(seg) ?? [];
        list.push(route);
        this.byFirstSegment.set(seg, list);
      }
    }
    // Each segment's list holds the dynamic routes too, in declaration order, so a lookup
    // walks one list.
    if (this.dynamic.length > 0) for (const [seg, list] of this.byFirstSegment) this.byFirstSegment.set(seg, mergeByOrder(list, this.dynamic));
  }

  /**
   * Finds the route serving `method` (upper case) at `path`. A GET route answers HEAD only
   * when no route declares HEAD for the path itself.
   */
  lookup(method: string, path: string): RouteLookup {
    const slash = path.indexOf('/', 1);
    const seg = (slash < 0 ? path.slice(1) : path.slice(1, slash)).toLowerCase();
    const candidates = this.byFirstSegment.get(seg) ?? this.dynamic;
    let pathMatch: CompiledRoute | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const route = candidates[i];
      const m = route.match(path);
      if (!m) continue;
      pathMatch ??= route;
      if (route.methods.has(method)) return { found: { route, params: m.params } };
      if (method === 'HEAD' && route.methods.has('GET')) {
        for (let j = i + 1; j < candidates.length; j++) {
          const own = candidates[j];
          if (own.methods.has('HEAD')) {
            const mh = own.match(path);
            if (mh) return { found: { route: own, params: mh.params } };
          }
        }
        return { found: { route, params: m.params } };
      }
    }
    return { pathMatch };
  }

  /** The methods a plugin's routes serve at `path` (for its 405's Allow header). */
  allowedMethods(plugin: PluginHttp, path: string): Set<string> {
    const allowed = new Set<string>();
    for (const r of this.routes) {
      if (r.plugin === plugin && r.match(path)) for (const m of r.methods) allowed.add(m);
    }
    return allowed;
  }
}

function mergeByOrder(a: readonly CompiledRoute[], b: readonly CompiledRoute[]): CompiledRoute[] {
  const out: CompiledRoute[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].order < b[j].order)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}
