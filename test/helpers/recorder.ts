/** Test plugins that record their lifecycle into a shared log. */
import { definePlugin, type PluginDescriptor } from '../../src/index.js';

/** A plugin whose hooks append `<hook>:<id>` to `log`; `fail` makes one hook throw. */
export function recorder(id: string, log: string[], options: { dependsOn?: string[]; fail?: 'init' | 'start' } = {}): PluginDescriptor {
  return definePlugin({
    id,
    version: '1.0.0',
    dependsOn: options.dependsOn,
    init(ctx) {
      log.push(`init:${id}`);
      ctx.onStop(() => {
        log.push(`cleanup:${id}`);
      });
      if (options.fail === 'init') throw new Error(`${id} cannot init`);
    },
    start() {
      log.push(`start:${id}`);
      if (options.fail === 'start') throw new Error(`${id} cannot start`);
    },
    stop() {
      log.push(`stop:${id}`);
    },
  });
}
