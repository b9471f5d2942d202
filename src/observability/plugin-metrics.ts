/**
 * What a plugin uses to add its own metrics (`ctx.metrics`): counter, gauge and histogram
 * factories whose names are prefixed `switchboard_<plugin>_` and registered in the
 * kernel's registry.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { METRIC_PREFIX } from './metrics-prefix.js';

export type { Counter, Gauge, Histogram } from 'prom-client';

/** A metric's name (after the plugin's prefix), help text and label names. */
export interface MetricDefinition<L extends string = string> {
  /** The name after `switchboard_<plugin>_`, e.g. `chat_messages_total`. */
  name: string;
  /** One line about what it counts. */
  help: string;
  /** Its label names. */
  labelNames?: readonly L[];
}

/** A gauge's definition; `collect` (if given) samples its value when the registry is scraped. */
export interface GaugeDefinition<L extends string = string> extends MetricDefinition<L> {
  /**
   * Sets the gauge's values at scrape time (e.g. counts read from the database); may be
   * asynchronous. When it fails, the scrape still answers, without this gauge's values, and
   * the failure is logged.
   */
  collect?: (gauge: Gauge<L>) => void | Promise<void>;
}

/** A histogram's definition. */
export interface HistogramDefinition<L extends string = string> extends MetricDefinition<L> {
  /** Bucket upper bounds (default prom-client's). */
  buckets?: number[];
}

/** Metric factories of one plugin; names are prefixed `switchboard_<plugin>_`. */
export class PluginMetrics {
  /** The prefix of this plugin's metric names, e.g. `switchboard_owncast_`. */
  readonly prefix: string;

  /**
   * @param registry - the kernel's registry
   * @param pluginId - the plugin's id (`-` becomes `_` in names)
   * @param logger - where a failing gauge sampler is logged
   */
  constructor(
    private readonly registry: Registry,
    pluginId: string,
    private readonly logger?: Logger,
  ) {
    this.prefix = `${METRIC_PREFIX}${pluginId.replace(/-/g, '_')}_`;
  }

  /** A counter, registered in the kernel's registry. */
  counter<L extends string = string>(def: MetricDefinition<L>): Counter<L> {
    return new Counter<L>({ name: this.prefix + def.name, help: def.help, labelNames: def.labelNames ?? [], registers: [this.registry] });
  }

  /** A gauge, registered in the kernel's registry; sampled at scrape time when `collect` is given. */
  gauge<L extends string = string>(def: GaugeDefinition<L>): Gauge<L> {
    const sample = def.collect;
    const logger = this.logger;
    const name = this.prefix + def.name;
    return new Gauge<L>({
      name: this.prefix + def.name,
      help: def.help,
      labelNames: def.labelNames ?? [],
      registers: [this.registry],
      ...(sample
        ? {
            async collect(this: Gauge<L>) {
              try {
                await sample(this);
              } catch (err) {
                this.reset();
                logger?.warn({ err, metric: name }, 'metrics: a gauge could not be sampled');
              }
            },
          }
        : {}),
    });
  }

  /** A histogram, registered in the kernel's registry. */
  histogram<L extends string = string>(def: HistogramDefinition<L>): Histogram<L> {
    return new Histogram<L>({ name: this.prefix + def.name, help: def.help, labelNames: def.labelNames ?? [], registers: [this.registry], ...(def.buckets ? { buckets: def.buckets } : {}) });
  }
}
