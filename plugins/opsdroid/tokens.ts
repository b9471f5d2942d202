/** DI tokens of the opsdroid plugin. */

/** The plugin's `Opsdroid` runtime, registered in the plugin's container (and provided to other plugins). */
export const OPSDROID_RUNTIME = Symbol.for('switchboard.opsdroid.runtime');
