/**
 * Structured logging: one pino logger per kernel, a child per plugin, secrets scrubbed from
 * every line, and a bounded ring of recent entries that plugins can read (the Owncast log
 * endpoints serve it).
 */
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';
import { currentRequestId } from './observability/request-context.js';
import type { SecretRegistry } from './secrets.js';

export type { Logger } from 'pino';

/** One entry of the {@link LogRing}. */
export interface LogEntry {
  /** When it was logged. */
  time: Date;
  /** The level name: trace, debug, info, warn, error, fatal. */
  level: string;
  /** The message text. */
  message: string;
  /** The plugin that logged it, if any. */
  plugin?: string;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * A bounded ring of recent log lines. Lines are stored as written (already scrubbed) and
 * parsed only when read, so logging stays cheap.
 */
export class LogRing {
  private readonly lines: string[] = [];
  private next = 0;

  /** @param capacity - how many entries to keep; older ones are dropped */
  constructor(readonly capacity = 500) {}

  /** Appends a raw JSON log line. */
  push(line: string): void {
    if (this.lines.length < this.capacity) this.lines.push(line);
    else {
      this.lines[this.next] = line;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  /** The entries, oldest first, optionally only those at or above `minLevel`. */
  entries(minLevel: string = 'trace'): LogEntry[] {
    const min = LEVEL_VALUES[minLevel] ?? 10;
    const ordered = this.lines.length < this.capacity ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    const out: LogEntry[] = [];
    for (const line of ordered) {
      let rec: { time?: number; level?: number; msg?: string; plugin?: string };
      try {
        rec = JSON.parse(line);
      } catch {
        continue;
      }
      if ((rec.level ?? 30) < min) continue;
      out.push({
        time: new Date(rec.time ?? Date.now()),
        level: LEVEL_NAMES[rec.level ?? 30] ?? 'info',
        message: rec.msg ?? '',
        ...(rec.plugin ? { plugin: rec.plugin } : {}),
      });
    }
    return out;
  }
}

/** How the kernel should log. */
export interface LoggerOptions {
  /** Minimum level, default `info` (`silent` writes nothing out, but the ring still fills). */
  level?: LevelWithSilent;
  /** Where lines go: a writable stream, or `false` for nowhere but the ring. Default stdout. */
  destination?: DestinationStream | NodeJS.WritableStream | false;
  /** How many recent entries the ring keeps (default 500). */
  ringSize?: number;
}

/** Field paths pino blanks out whatever their value, on top of the secret registry. */
export const REDACTED_PATHS = [
  'password',
  'token',
  'secret',
  'apikey',
  'apiKey',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.apikey',
  '*.apiKey',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

/** The kernel's logger, its ring and where it writes. */
export interface KernelLogging {
  /** The root logger; plugins get `logger.child({ plugin: id })`. */
  logger: Logger;
  /** Recent entries. */
  ring: LogRing;
  /**
   * The access log's logger: the same output, redaction and request ids as `logger`, at the
   * output's level (at `warn`, info lines are not even built), and its lines stay out of the
   * ring, so that traffic never pushes the warnings and errors that the log endpoints show
   * out of it.
   */
  accessLogger: Logger;
}

/** The fields every log line gets: the id of the request being served, if any (a fresh object: pino merges into it). */
function requestIdMixin(): object {
  const requestId = currentRequestId();
  return requestId === undefined ? {} : { requestId };
}

/** Reads the numeric level of a pino JSON line without parsing the whole line. */
function lineLevel(line: string): number {
  const m = /"level":(\d+)/.exec(line);
  return m ? Number(m[1]) : 30;
}

function isPinoLogger(value: unknown): value is Logger {
  return typeof value === 'object' && value !== null && typeof (value as Logger).child === 'function' && typeof (value as Logger).levels === 'object';
}

/**
 * Creates the kernel's logger. A host that passes its own pino logger keeps its output
 * stream and level; the kernel's logger writes through the same stream, so the ring and the
 * secret scrubbing apply to Switchboard's lines.
 */
export function createLogging(option: Logger | LoggerOptions | undefined, secrets: SecretRegistry): KernelLogging {
  let level: LevelWithSilent = 'info';
  let out: { write(line: string): unknown } | undefined = process.stdout;
  let ringSize = 500;
  if (isPinoLogger(option)) {
    level = option.level as LevelWithSilent;
    out = (option as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym];
  } else if (option) {
    level = option.level ?? level;
    out = option.destination === false ? undefined : (option.destination ?? process.stdout);
    ringSize = option.ringSize ?? ringSize;
  }
  const ring = new LogRing(ringSize);
  // The ring keeps everything from `info` up even when the output is silent, so that the
  // log endpoints show the real log; the output honours the configured level.
  const outMin = level === 'silent' ? Infinity : (LEVEL_VALUES[level] ?? 30);
  const loggerLevel = level === 'silent' || (LEVEL_VALUES[level] ?? 30) > 30 ? 'info' : level;
  const everyLineOut = outMin <= (LEVEL_VALUES[loggerLevel] ?? 30);
  const toOut = (line: string) => {
    if (out && (everyLineOut || lineLevel(line) >= outMin)) out.write(line);
  };
  const destination: DestinationStream = {
    write(line: string) {
      ring.push(line);
      toOut(line);
    },
  };
  const options = {
    level: loggerLevel,
    base: undefined,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    // Every line written while a request is served carries its id, plugin lines included.
    mixin: requestIdMixin,
    hooks: { streamWrite: (s: string) => secrets.scrub(s) },
  };
  const logger = pino(options, destination);
  // Access lines never enter the ring, so the access logger runs at the output's own level:
  // below it, pino-http's lines are not built at all (serializing, redacting and scrubbing
  // every request's line only for `toOut` to drop it was about a quarter of a read request's CPU).
  const accessLevel = level === 'silent' || outMin > (LEVEL_VALUES[loggerLevel] ?? 30) ? level : loggerLevel;
  const accessLogger = pino({ ...options, level: accessLevel }, { write: toOut }).child({ component: 'http' });
  return { logger, ring, accessLogger };
}
