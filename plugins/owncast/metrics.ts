/**
 * Metrics sampled from the real machine and the real chat: the viewer count every
 * `metrics.viewersIntervalMs` (Owncast: 2 minutes), and CPU, memory and disk usage as
 * integer percentages every `metrics.hardwareIntervalMs` (Owncast: 1 minute). Samples are
 * stored in the database and each series keeps the newest `metrics.retention` (Owncast:
 * about 500).
 *
 * CPU is the share of non-idle time of all cores between two samples (`os.cpus()`), memory
 * the share of memory not available (`os.totalmem()`/`os.freemem()`), disk the share of the
 * file system at `metrics.diskPath` in use (`fs.statfs`, as `df` computes it).
 *
 * Samples are taken on the wall-clock multiples of their interval. With several instances
 * on one PostgreSQL each sample time is claimed once (`ctx.leases.once`), so each series
 * gets one sample per interval — the viewer count of the whole cluster, the hardware of the
 * instance that took it — instead of one per instance.
 */
import fs from 'node:fs';
import os from 'node:os';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';
import type { BackgroundTasks } from './background.js';
import { BroadcastStateStore } from './broadcast-state.js';
import type { ChatConnections } from './chat/hub.js';
import type { OwncastConfig } from './plugin-config.js';
import { OwncastTokens } from './tokens.js';

/** One sample. */
export interface TimestampedValue {
  /** When it was taken (ISO 8601). */
  time: string;
  /** The value. */
  value: number;
}

/** The hardware series. */
export interface HardwareStats {
  /** CPU usage, %. */
  cpu: TimestampedValue[];
  /** Memory usage, %. */
  memory: TimestampedValue[];
  /** Disk usage, %. */
  disk: TimestampedValue[];
}

/** The series names. */
export type MetricKind = 'viewers' | 'cpu' | 'memory' | 'disk';

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const percent = (part: number, whole: number) => (whole > 0 ? Math.max(0, Math.min(100, Math.round((part / whole) * 100))) : 0);

/** Samples, stores and reads the metrics. */
@injectable()
export class MetricsSampler {
  private readonly table: string;
  private lastCpu: CpuTimes = cpuTimes();
  private timers: NodeJS.Timeout[] = [];

  /**
   * @param ctx - the plugin's context
   * @param connections - the viewers
   * @param broadcast - the broadcast state (viewers count while online)
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext<OwncastConfig>,
    @inject(OwncastTokens.Connections) private readonly connections: ChatConnections,
    private readonly broadcast: BroadcastStateStore,
  ) {
    this.table = ctx.table('metrics');
  }

  /** Starts sampling at the configured intervals, as work of `tasks`. */
  start(tasks: BackgroundTasks): void {
    if (this.timers.length > 0) return;
    const { viewersIntervalMs, hardwareIntervalMs } = this.ctx.config.metrics;
    this.lastCpu = cpuTimes();
    const every = (kind: string, ms: number, fn: () => Promise<void>) => {
      let busy = false;
      const tick = () => {
        // A sample still being stored when the next is due is not overlapped (the series stays bounded).
        if (busy) return;
        busy = true;
        const slot = Math.round(Date.now() / ms) * ms;
        tasks.run(() =>
          this.claim(kind, slot, ms)
            .then((mine) => (mine ? fn() : undefined))
            .finally(() => {
              busy = false;
            }),
        );
      };
      // On the multiples of the interval, so that every instance samples at the same times.
      const first = setTimeout(() => {
        const timer = setInterval(tick, ms);
        timer.unref();
        this.timers.push(timer);
        tick();
      }, ms - (Date.now() % ms));
      first.unref();
      this.timers.push(first);
    };
    every('viewers', viewersIntervalMs, () => this.sampleViewers());
    every('hardware', hardwareIntervalMs, () => this.sampleHardware());
  }

  /** Stops sampling. */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** True when this instance takes the sample due at `slot` (always, unless several instances share the database). */
  private async claim(kind: string, slot: number, intervalMs: number): Promise<boolean> {
    if (!this.ctx.clustered) return true;
    return this.ctx.leases.once(`owncast:metrics:${kind}:${slot}`, Math.max(2 * intervalMs, 60_000));
  }

  /** Takes a viewer-count sample now. */
  async sampleViewers(): Promise<void> {
    await this.store([['viewers', this.broadcast.current.online ? this.connections.count() : 0]]);
  }

  /** Takes CPU, memory and disk samples now. */
  async sampleHardware(): Promise<void> {
    const now = cpuTimes();
    const idle = now.idle - this.lastCpu.idle;
    const total = now.total - this.lastCpu.total;
    this.lastCpu = now;
    const cpu = total > 0 ? percent(total - idle, total) : 0;
    const memory = percent(os.totalmem() - os.freemem(), os.totalmem());
    const stats = await fs.promises.statfs(this.ctx.config.metrics.diskPath);
    const used = stats.blocks - stats.bfree;
    const disk = percent(used, used + stats.bavail);
    await this.store([
      ['cpu', cpu],
      ['memory', memory],
      ['disk', disk],
    ]);
  }

  /** The viewer counts over the kept period, oldest first. */
  async viewers(): Promise<TimestampedValue[]> {
    return this.series('viewers');
  }

  /** CPU, memory and disk over the kept period, oldest first. */
  async hardware(): Promise<HardwareStats> {
    const rows = (await this.ctx.db(this.table).select('kind', 'time', 'value').whereIn('kind', ['cpu', 'memory', 'disk']).orderBy('id')) as Array<{
      kind: MetricKind;
      time: number | string;
      value: number | string;
    }>;
    const out: HardwareStats = { cpu: [], memory: [], disk: [] };
    for (const r of rows) out[r.kind as 'cpu' | 'memory' | 'disk'].push({ time: new Date(Number(r.time)).toISOString(), value: Number(r.value) });
    return out;
  }

  private async series(kind: MetricKind): Promise<TimestampedValue[]> {
    const rows = (await this.ctx.db(this.table).select('time', 'value').where('kind', kind).orderBy('id')) as Array<{ time: number | string; value: number | string }>;
    return rows.map((r) => ({ time: new Date(Number(r.time)).toISOString(), value: Number(r.value) }));
  }

  private async store(samples: Array<[MetricKind, number]>): Promise<void> {
    const time = Date.now();
    const keep = this.ctx.config.metrics.retention;
    await this.ctx.db.transaction(async (trx) => {
      await trx(this.table).insert(samples.map(([kind, value]) => ({ kind, time, value })));
      for (const [kind] of samples) {
        const cutoff = (await trx(this.table).select('id').where('kind', kind).orderBy('id', 'desc').offset(keep).limit(1).first()) as { id: number | string } | undefined;
        if (cutoff) await trx(this.table).where('kind', kind).andWhere('id', '<=', Number(cutoff.id)).del();
      }
    });
  }
}
