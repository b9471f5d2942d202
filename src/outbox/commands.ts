/**
 * `switchboard outbox …`: the operator's commands on the outbox (list, show, replay, purge),
 * run against a kernel prepared in CLI mode. They only change the database: the running
 * server (any instance, on PostgreSQL) delivers what they replay. Tables for people on
 * standard output, or JSON with `--json`; errors on standard error with exit status 1.
 */
import type { Command } from 'commander';
import { processOutput, type CliOutput } from '../cli.js';
import type { Kernel } from '../kernel.js';
import { parseDuration } from './duration.js';
import { DELIVERY_STATES, PURGEABLE_STATES, type DeliveryDetail, type DeliveryState, type DeliverySummary, type OutboxOperator, type PurgeableState } from './operator.js';

/** Options of {@link addOutboxCommands}. */
export interface OutboxCommandOptions {
  /** Builds the kernel a command runs against (not started). */
  createKernel(): Kernel | Promise<Kernel>;
  /** Where commands print (default the process's stdout/stderr). */
  output?: CliOutput;
  /** Receives the command's exit code (default: sets `process.exitCode`). */
  setExitCode?(code: number): void;
}

/** Formats rows as a left-aligned table with a header line. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)];
}

function lastOutcome(d: DeliverySummary): string {
  if (d.lastStatus !== null) return String(d.lastStatus);
  return d.lastError ?? '-';
}

function listLines(deliveries: readonly DeliverySummary[]): string[] {
  if (deliveries.length === 0) return ['no deliveries'];
  return formatTable(
    ['ID', 'DELIVERY', 'OWNER', 'REF', 'STATE', 'ATTEMPTS', 'LAST', 'CREATED', 'URL'],
    deliveries.map((d) => [String(d.id), d.deliveryId, d.owner, d.ownerRef ?? '-', d.state, `${d.attempts}/${d.maxAttempts}`, lastOutcome(d).slice(0, 40), d.createdAt, d.url]),
  );
}

function showLines(d: DeliveryDetail): string[] {
  const fields: Array<[string, string]> = [
    ['id', String(d.id)],
    ['delivery', d.deliveryId],
    ['owner', d.owner],
    ['ref', d.ownerRef ?? '-'],
    ['url', d.url],
    ['state', d.state],
    ['attempts', `${d.attempts}/${d.maxAttempts}`],
    ['created', d.createdAt],
    ['next attempt', d.nextAttemptAt ?? '-'],
    ['finished', d.finishedAt ?? '-'],
    ['last status', d.lastStatus === null ? '-' : String(d.lastStatus)],
    ['last error', d.lastError ?? '-'],
  ];
  const lines = fields.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`);
  lines.push('');
  if (d.attemptLog.length === 0) lines.push('no attempts yet');
  else
    lines.push(
      ...formatTable(
        ['ATTEMPT', 'AT', 'STATUS', 'DURATION', 'OUTCOME', 'ERROR'],
        d.attemptLog.map((a) => [String(a.attempt), a.at, a.status === null ? '-' : String(a.status), `${a.durationMs} ms`, a.outcome, a.error ?? '-']),
      ),
    );
  return lines;
}

/** Adds `outbox list|show|replay|purge` to the program. */
export function addOutboxCommands(program: Command, options: OutboxCommandOptions): void {
  const output = options.output ?? processOutput;
  const setExitCode = options.setExitCode ?? ((code: number) => void (process.exitCode = code));
  const usage = (message: string) => {
    output.err(`switchboard outbox: ${message}`);
    setExitCode(1);
  };
  const run = async (fn: (operator: OutboxOperator) => Promise<number>) => {
    const kernel = await options.createKernel();
    let code = 0;
    try {
      await kernel.prepare('cli');
      code = await fn(kernel.outboxOperator);
    } finally {
      await kernel.stop();
    }
    setExitCode(code);
  };
  const print = (json: boolean | undefined, value: unknown, lines: () => string[]) => {
    if (json) output.out(JSON.stringify(value, null, 2));
    else for (const l of lines()) output.out(l);
  };

  const outbox = program.command('outbox').description('inspect and repair outbound deliveries (webhooks, bot deliveries)');
  outbox
    .command('list')
    .description('list deliveries, newest first')
    .option('--owner <plugin>', 'only this plugin\'s deliveries')
    .option('--state <state>', `only this state: ${DELIVERY_STATES.join('|')}`)
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { owner?: string; state?: string; limit: string; json?: boolean }) => {
      if (opts.state !== undefined && !DELIVERY_STATES.includes(opts.state as DeliveryState)) return usage(`--state must be one of ${DELIVERY_STATES.join(', ')}`);
      if (!/^[1-9]\d{0,3}$/.test(opts.limit) || Number(opts.limit) > 1000) return usage('--limit must be an integer from 1 to 1000');
      await run(async (operator) => {
        const deliveries = await operator.list({ owner: opts.owner, state: opts.state as DeliveryState | undefined, limit: Number(opts.limit) });
        print(opts.json, { deliveries }, () => listLines(deliveries));
        return 0;
      });
    });
  outbox
    .command('show <id>')
    .description('show one delivery (row id or delivery id) with its attempts')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await run(async (operator) => {
        const delivery = await operator.show(id);
        if (!delivery) {
          output.err(`switchboard outbox: no delivery ${id}`);
          return 1;
        }
        print(opts.json, delivery, () => showLines(delivery));
        return 0;
      });
    });
  outbox
    .command('replay [id]')
    .description('replay a dead delivery with the same delivery id, or every dead one with --dead')
    .option('--dead', 'replay dead deliveries (up to 500 a run)')
    .option('--owner <plugin>', 'with --dead: only this plugin\'s')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, opts: { dead?: boolean; owner?: string; json?: boolean }) => {
      if ((id === undefined) === !opts.dead) return usage('give either a delivery id or --dead');
      if (opts.owner !== undefined && !opts.dead) return usage('--owner goes with --dead');
      await run(async (operator) => {
        if (opts.dead) {
          const result = await operator.replayDead({ owner: opts.owner });
          print(opts.json, result, () => [
            `replayed ${result.replayed.length} dead deliver${result.replayed.length === 1 ? 'y' : 'ies'}`,
            ...result.refused.map((r) => `not replayed ${r.id}: ${r.error}`),
            ...(result.remaining > 0 ? [`${result.remaining} more dead; run it again`] : []),
          ]);
          return result.refused.length > 0 ? 1 : 0;
        }
        const result = await operator.replay(id!);
        if (!result.ok) {
          if (opts.json) output.out(JSON.stringify({ replayed: false, reason: result.reason, message: result.message }, null, 2));
          output.err(`switchboard outbox: ${result.message}`);
          return 1;
        }
        print(opts.json, { replayed: true, delivery: result.delivery }, () => [`replayed ${result.delivery.id} (delivery ${result.delivery.deliveryId}); the server delivers it`]);
        return 0;
      });
    });
  outbox
    .command('purge')
    .description('delete finished deliveries (dead or delivered) older than a duration')
    .requiredOption('--state <state>', `${PURGEABLE_STATES.join('|')}`)
    .requiredOption('--older-than <duration>', 'e.g. 7d, 12h, 30m')
    .option('--owner <plugin>', 'only this plugin\'s')
    .option('--json', 'print JSON')
    .action(async (opts: { state: string; olderThan: string; owner?: string; json?: boolean }) => {
      if (!PURGEABLE_STATES.includes(opts.state as PurgeableState)) return usage(`--state must be one of ${PURGEABLE_STATES.join(', ')}`);
      const olderThanMs = parseDuration(opts.olderThan);
      if (olderThanMs === undefined) return usage('--older-than must be a duration such as 7d, 12h, 30m or 45s');
      await run(async (operator) => {
        const purged = await operator.purge({ state: opts.state as PurgeableState, olderThanMs, owner: opts.owner });
        print(opts.json, { purged }, () => [`purged ${purged} ${opts.state} deliver${purged === 1 ? 'y' : 'ies'}`]);
        return 0;
      });
    });
}
