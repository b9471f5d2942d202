/**
 * The API families bundled with the standalone server. Every plugin listed here is on by
 * default at its native paths; `plugins.<id>.enabled: false` in the config turns one off.
 */
import type { PluginDescriptor } from '../../src/index.js';
import { anopePlugin } from '../../plugins/anope/index.js';
import { opsdroidPlugin } from '../../plugins/opsdroid/index.js';
import { owncastPlugin } from '../../plugins/owncast/index.js';
import { redballPlugin } from '../../plugins/redball/index.js';
import { talkPlugin } from '../../plugins/talk/index.js';

/** Every bundled plugin, in the order they are given to the kernel. */
export const bundledPlugins: readonly PluginDescriptor<any>[] = [opsdroidPlugin, redballPlugin, talkPlugin, anopePlugin, owncastPlugin];
