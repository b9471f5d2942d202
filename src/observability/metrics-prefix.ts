/** The name prefix of every Switchboard metric. */
export const METRIC_PREFIX = 'switchboard_';
