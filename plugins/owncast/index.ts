/**
 * The `owncast` plugin (being built).
 *
 * @packageDocumentation
 */
import { definePlugin } from '../../src/index.js';

/** The owncast plugin descriptor. */
export const owncastPlugin = definePlugin({ id: 'owncast', version: '0.1.0' });

export default owncastPlugin;
