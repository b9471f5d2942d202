/**
 * The `redball` plugin (being built).
 *
 * @packageDocumentation
 */
import { definePlugin } from '../../src/index.js';

/** The redball plugin descriptor. */
export const redballPlugin = definePlugin({ id: 'redball', version: '0.1.0' });

export default redballPlugin;
