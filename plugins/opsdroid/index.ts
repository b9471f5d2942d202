/**
 * The `opsdroid` plugin (being built).
 *
 * @packageDocumentation
 */
import { definePlugin } from '../../src/index.js';

/** The opsdroid plugin descriptor. */
export const opsdroidPlugin = definePlugin({ id: 'opsdroid', version: '0.1.0' });

export default opsdroidPlugin;
