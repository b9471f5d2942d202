/** A plugin that does nothing but hand its context to the test (to reach `ctx.outbox`, `ctx.db`). */
import { definePlugin, type PluginContext, type PluginDescriptor } from '../../src/index.js';

/** Where {@link contextHolder}'s plugin puts its context once the kernel initialised it. */
export interface ContextHolder {
  /** The plugin's context. */
  ctx?: PluginContext;
}

/** A plugin `notifier` that puts its context into `holder`. */
export function contextHolder(holder: ContextHolder): PluginDescriptor {
  return definePlugin({ id: 'notifier', version: '1', init: (ctx) => void (holder.ctx = ctx) });
}
