/**
 * The `talk` plugin (being built).
 *
 * @packageDocumentation
 */
import { definePlugin } from '../../src/index.js';

/** The talk plugin descriptor. */
export const talkPlugin = definePlugin({ id: 'talk', version: '0.1.0' });

export default talkPlugin;
