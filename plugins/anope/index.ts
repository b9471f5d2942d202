/**
 * The `anope` plugin (being built).
 *
 * @packageDocumentation
 */
import { definePlugin } from '../../src/index.js';

/** The anope plugin descriptor. */
export const anopePlugin = definePlugin({ id: 'anope', version: '0.1.0' });

export default anopePlugin;
