/** DI tokens of the owncast plugin. */

/** Tokens under which the plugin's services can be resolved. */
export const OwncastTokens = {
  /** The `Owncast` services of the plugin (in the plugin's container). */
  Owncast: Symbol.for('switchboard.owncast'),
  /** The `BroadcastService`, provided to the host and other plugins (the kernel's root container). */
  Broadcasts: Symbol.for('switchboard.owncast.broadcasts'),
  /**
   * The `ChatConnections` the viewer count and the client lists come from (in the plugin's
   * container). By default this process's websockets; a multi-instance setup registers an
   * implementation that sums every instance's.
   */
  Connections: Symbol.for('switchboard.owncast.connections'),
} as const;
