/**
 * The plugin graph: checks ids and `dependsOn` before anything starts, and orders plugins
 * so that every plugin starts after the plugins it depends on.
 */
import { ErrorCodes, SwitchboardError } from './errors.js';

/** The part of a plugin the graph looks at. */
export interface GraphNode {
  /** The plugin id. */
  id: string;
  /** Ids it depends on. */
  dependsOn?: readonly string[];
}

/**
 * Returns the nodes in dependency order (dependencies first; otherwise the given order).
 * Throws `SWB_ERR_DUPLICATE_PLUGIN`, `SWB_ERR_MISSING_DEPENDENCY`, or
 * `SWB_ERR_DEPENDENCY_CYCLE` with the cycle's path (`a -> b -> a`).
 */
export function orderPlugins<T extends GraphNode>(nodes: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const node of nodes) {
    if (byId.has(node.id)) {
      throw new SwitchboardError(ErrorCodes.DUPLICATE_PLUGIN, `Plugin id '${node.id}' is registered twice`, { pluginId: node.id });
    }
    byId.set(node.id, node);
  }
  for (const node of nodes) {
    for (const dep of node.dependsOn ?? []) {
      if (!byId.has(dep)) {
        throw new SwitchboardError(ErrorCodes.MISSING_DEPENDENCY, `Plugin '${node.id}' depends on '${dep}', which is not registered`, { pluginId: node.id });
      }
    }
  }
  const ordered: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: T, path: string[]): void => {
    const s = state.get(node.id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(node.id)), node.id];
      throw new SwitchboardError(ErrorCodes.DEPENDENCY_CYCLE, `Plugin dependency cycle: ${cycle.join(' -> ')}`, { pluginId: node.id });
    }
    state.set(node.id, 'visiting');
    for (const dep of node.dependsOn ?? []) visit(byId.get(dep)!, [...path, node.id]);
    state.set(node.id, 'done');
    ordered.push(node);
  };
  for (const node of nodes) visit(node, []);
  return ordered;
}
