/**
 * Errors the kernel raises, each with a stable code.
 *
 * Tests and callers should compare {@link SwitchboardError.code}, never the message: the
 * prose may improve, the codes do not change.
 */

/** Every stable error code the kernel can raise. */
export const ErrorCodes = {
  /** Two plugins were given the same id. */
  DUPLICATE_PLUGIN: 'SWB_ERR_DUPLICATE_PLUGIN',
  /** A plugin depends on a plugin that is not in the kernel's list. */
  MISSING_DEPENDENCY: 'SWB_ERR_MISSING_DEPENDENCY',
  /** The plugins' `dependsOn` lists form a cycle; the message shows the path. */
  DEPENDENCY_CYCLE: 'SWB_ERR_DEPENDENCY_CYCLE',
  /** Two plugins claim the same method and path. */
  ROUTE_CONFLICT: 'SWB_ERR_ROUTE_CONFLICT',
  /** A plugin's configuration does not match its schema; the message names plugin and key. */
  INVALID_CONFIG: 'SWB_ERR_INVALID_CONFIG',
  /** A plugin descriptor is malformed (no id, no version, bad hook). */
  INVALID_PLUGIN: 'SWB_ERR_INVALID_PLUGIN',
  /** A plugin's migrations, init or start hook failed; the message names the plugin. */
  PLUGIN_START: 'SWB_ERR_PLUGIN_START',
  /** The kernel was asked to do something its current state does not allow. */
  KERNEL_STATE: 'SWB_ERR_KERNEL_STATE',
  /** The database option could not be understood. */
  INVALID_DATABASE: 'SWB_ERR_INVALID_DATABASE',
  /** An outbound URL is not allowed by the URL policy. */
  URL_NOT_ALLOWED: 'SWB_ERR_URL_NOT_ALLOWED',
} as const;

/** One of the values of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** An error raised by the kernel, carrying a stable {@link ErrorCode}. */
export class SwitchboardError extends Error {
  /** The stable code of this error, e.g. `SWB_ERR_DEPENDENCY_CYCLE`. */
  readonly code: ErrorCode;
  /** The plugin the error is about, when there is one. */
  readonly pluginId?: string;

  /**
   * @param code - the stable code
   * @param message - a sentence for people; it may change between versions
   * @param options - the plugin concerned and the underlying cause, if any
   */
  constructor(code: ErrorCode, message: string, options: { pluginId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchboardError';
    this.code = code;
    this.pluginId = options.pluginId;
  }
}

/** True when `err` is a {@link SwitchboardError}, optionally with the given code. */
export function isSwitchboardError(err: unknown, code?: ErrorCode): err is SwitchboardError {
  return err instanceof SwitchboardError && (code === undefined || err.code === code);
}
