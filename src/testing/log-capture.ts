/**
 * Log capture for a secrets-hygiene check of a test run (internal to the test helpers).
 *
 * When `SWB_TEST_LOG_DIR` names a directory, every test kernel writes its log lines (level
 * info and up, after the kernel's scrubbing: what a deployment's log would hold) to a file
 * there, and records beside it every secret it knows of:
 *
 * - the secrets registered with the kernel (`kernel.secrets.add`);
 * - secret-looking values of the plugins' configs (tokens, keys, passwords, secrets);
 * - secrets that travelled through its HTTP API: the credentials requests present (right
 *   or wrong), secret-looking fields of request bodies and query strings (a reddit app
 *   secret, an Owncast S3 secret…) and of JSON answers (an Owncast access token just made);
 * - secrets at rest in its database when it closes (secret-named columns, token tables,
 *   key/value settings): a bot installed by the CLI or the programmatic API.
 *
 * A check after the run (test/reliability/fixtures-b/secrets-after.ts) then looks for every
 * recorded secret in every log file: a plugin that forgot to register a secret and logged
 * it is caught, because the secret was recorded from where it came from, not only from the
 * registry. Without the variable nothing is written.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import YAML from 'yaml';

/** The environment variable naming the capture directory. */
export const TEST_LOG_DIR_ENV = 'SWB_TEST_LOG_DIR';

/** Secrets shorter than this are not recorded (they would match ordinary text). */
export const MIN_RECORDED_SECRET = 8;
const MAX_RECORDED_SECRET = 1024;
const MAX_CAPTURED_BODY = 256 * 1024;

/** Config keys whose string values are secrets (anywhere in a plugin's config). */
const CONFIG_SECRET_KEY = /secret|passw(or)?d|^pass$|passphrase|token|api[-_]?keys?$|^keys?$|stream[-_]?keys?|private[-_]?key|credential/i;
/**
 * Request and answer fields whose values are secrets. A bare `token` is left out (a Talk
 * conversation's token is a public id that appears in every path) unless the request's
 * path is about tokens (`/api/admin/accesstokens/create`).
 */
const TRAFFIC_SECRET_KEY = /secret|passw(or)?d|^pass$|passphrase|api[-_]?key|access[-_]?token|refresh[-_]?token|webhook[-_]?token|app[-_]?token|bearer|stream[-_]?keys?|private[-_]?key|credential/i;
/** A request whose path ends like this carries a secret as its whole value (`PUT …/config/key`). */
const SECRET_PATH_END = /\/(key|streamkeys?|secret|password|pass|token|apikey)$/i;
/** Database columns holding secrets (never their hashes). */
const COLUMN_SECRET = /secret|passw(or)?d|^pass$|api[-_]?key|access[-_]?token|refresh[-_]?token|stream[-_]?key|private[-_]?key/i;
const COLUMN_NOT_SECRET = /hash|fingerprint|digest|_at$|_id$|expire/i;
/** Tables of tokens: their `token`, `key` and `value` columns are secrets too. */
const TOKEN_TABLE = /token|secret|credential|api[-_]?key/i;

let sequence = 0;

/** Where this process's captures go, or undefined when capture is off. */
export function testLogDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env[TEST_LOG_DIR_ENV];
  return dir ? path.resolve(dir) : undefined;
}

/** One capture: a log file and the secrets file beside it. */
export class LogCapture {
  /** The log file. */
  readonly logFile: string;
  /** The secrets file: one JSON record `{secret, source}` per line. */
  readonly secretsFile: string;
  private readonly fd: number;
  private readonly seen = new Set<string>();
  private closed = false;

  private constructor(dir: string, label: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const base = path.join(dir, `${label}-${process.pid}-${++sequence}-${crypto.randomBytes(3).toString('hex')}`);
    this.logFile = `${base}.log`;
    this.secretsFile = `${base}.secrets`;
    this.fd = fs.openSync(this.logFile, 'a', 0o600);
    fs.writeFileSync(this.secretsFile, '', { mode: 0o600 });
  }

  /** Opens a capture in the capture directory, or returns undefined when capture is off. */
  static open(label: string, env: NodeJS.ProcessEnv = process.env): LogCapture | undefined {
    const dir = testLogDir(env);
    return dir ? new LogCapture(dir, label) : undefined;
  }

  /** A pino destination that writes every line to the log file. */
  get destination(): { write(line: string): void } {
    return { write: (line: string) => this.write(line) };
  }

  /** Appends text to the log file. */
  write(text: string | Buffer): void {
    if (this.closed) return;
    try {
      if (typeof text === 'string') fs.writeSync(this.fd, text);
      else fs.writeSync(this.fd, text);
    } catch {
      // A full disk must not fail the test that logged.
    }
  }

  /** Records a secret (strings of a plausible length only). */
  secret(value: unknown, source: string): void {
    if (typeof value !== 'string') return;
    const v = value.trim();
    // Once per secret and kind of source, so that the check can tell which paths record what.
    const key = `${source.split(/[ .]/)[0]}\0${v}`;
    if (v.length < MIN_RECORDED_SECRET || v.length > MAX_RECORDED_SECRET || this.seen.has(key) || v === '[REDACTED]') return;
    this.seen.add(key);
    try {
      fs.appendFileSync(this.secretsFile, `${JSON.stringify({ secret: v, source })}\n`);
    } catch {
      // as above
    }
  }

  /** Records the string values under secret-looking keys of `value` (any depth). */
  secretsIn(value: unknown, source: string, keyPattern: RegExp = CONFIG_SECRET_KEY, underSecret = false, depth = 0): void {
    if (depth > 20 || value === null || value === undefined) return;
    if (typeof value === 'string') {
      if (underSecret) this.secret(value, source);
      return;
    }
    if (Array.isArray(value)) {
      for (const v of value.slice(0, 1000)) this.secretsIn(v, source, keyPattern, underSecret, depth + 1);
      return;
    }
    if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 1000)) {
        this.secretsIn(v, `${source}.${k}`, keyPattern, underSecret || keyPattern.test(k), depth + 1);
      }
    }
  }

  /**
   * Express middleware recording the secrets that travel through the API: secret-looking
   * query parameters, request body fields and JSON answer fields. It reads the bytes as the
   * server receives and sends them, without consuming the request stream.
   */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
    return (req, res, next) => {
      const url = new URL(req.url ?? '/', 'http://capture');
      const tokenPath = /token/i.test(url.pathname);
      const keys = tokenPath ? new RegExp(`${TRAFFIC_SECRET_KEY.source}|^tokens?$`, 'i') : TRAFFIC_SECRET_KEY;
      const where = `${req.method} ${url.pathname}`;
      for (const [k, v] of url.searchParams) if (keys.test(k)) this.secret(v, `${where} query ${k}`);
      this.credentials(req.headers.authorization, `${where} header authorization`);
      const requestBody = captureRequest(req);
      const responseBody = captureResponse(res);
      res.once('finish', () => {
        try {
          this.secretsInBody(requestBody(), String(req.headers['content-type'] ?? ''), keys, SECRET_PATH_END.test(url.pathname), `${where} request`);
          const type = String(res.getHeader('content-type') ?? '');
          if (/json/i.test(type)) this.secretsInBody(responseBody(), type, keys, false, `${where} answer`);
        } catch {
          // Recording must never disturb a test.
        }
      });
      next();
    };
  }

  /**
   * Records the credentials a request presents, right or wrong: a refused login must be
   * logged without them too. Basic: the password (and the encoded pair); Bearer: the token;
   * any other scheme-less value (opsdroid's command center): the value.
   */
  private credentials(header: string | undefined, source: string): void {
    if (!header) return;
    const [scheme, ...rest] = header.trim().split(/\s+/);
    const value = rest.join(' ');
    if (/^basic$/i.test(scheme) && value) {
      this.secret(value, source);
      const decodedPair = Buffer.from(value, 'base64').toString('utf8');
      const colon = decodedPair.indexOf(':');
      if (colon >= 0) this.secret(decodedPair.slice(colon + 1), `${source} password`);
    } else if (/^bearer$/i.test(scheme)) this.secret(value, source);
    else if (rest.length === 0) this.secret(scheme, source);
  }

  private secretsInBody(body: Buffer | undefined, type: string, keys: RegExp, whole: boolean, source: string): void {
    if (!body || body.length === 0) return;
    const text = body.toString('utf8');
    let parsed: unknown;
    if (/urlencoded/i.test(type)) parsed = Object.fromEntries(new URLSearchParams(text));
    else {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (parsed === undefined) {
      if (whole) this.secret(text, source);
      return;
    }
    this.secretsIn(parsed, source, keys, whole);
  }

  /** Records secrets at rest in a database: secret columns, token tables, secret settings. */
  async secretsInDatabase(db: Knex, source = 'database'): Promise<void> {
    const tables = await listColumns(db);
    for (const [table, columns] of tables) {
      if (table.startsWith('swb_') || table.startsWith('knex_') || /_migrations?$/.test(table)) continue;
      const wanted = columns.filter((c) => (COLUMN_SECRET.test(c) && !COLUMN_NOT_SECRET.test(c)) || (TOKEN_TABLE.test(table) && /^(token|key|value)$/i.test(c)));
      const keyValue = columns.includes('key') && columns.includes('value');
      const jsonish = columns.filter((c) => /^(config|settings|value|data)$/i.test(c));
      if (wanted.length === 0 && !keyValue && jsonish.length === 0) continue;
      const select = [...new Set([...wanted, ...jsonish, ...(keyValue ? ['key', 'value'] : [])])];
      const rows = (await db(table).select(select).limit(10_000)) as Array<Record<string, unknown>>;
      for (const row of rows) {
        for (const c of wanted) this.secret(decoded(row[c]), `${source} ${table}.${c}`);
        if (keyValue && typeof row.key === 'string' && CONFIG_SECRET_KEY.test(row.key)) {
          const v = decoded(row.value);
          if (typeof v === 'string') this.secret(v, `${source} ${table}[${row.key}]`);
          else this.secretsIn(v, `${source} ${table}[${row.key}]`, CONFIG_SECRET_KEY, true);
        }
        for (const c of jsonish) {
          const v = decoded(row[c]);
          if (v && typeof v === 'object') this.secretsIn(v, `${source} ${table}.${c}`);
        }
      }
    }
  }

  /** Closes the log file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/** A JSON text decoded (a JSON string to its string, an object to the object); anything else as it is. */
function decoded(value: unknown): unknown {
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value !== 'string') return value;
  const t = value.trim();
  if (!/^["{[]/.test(t)) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}

async function listColumns(db: Knex): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const client = String((db.client as { config?: { client?: unknown } }).config?.client ?? '');
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') {
    const result = await db.raw(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`);
    for (const r of (result as { rows: Array<{ table_name: string; column_name: string }> }).rows) {
      const list = out.get(r.table_name) ?? [];
      list.push(r.column_name);
      out.set(r.table_name, list);
    }
    return out;
  }
  const tables = (await db.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)) as Array<{ name: string }>;
  for (const { name } of tables) {
    const info = (await db.raw(`PRAGMA table_info(${JSON.stringify(name)})`)) as Array<{ name: string }>;
    out.set(name, info.map((c) => c.name));
  }
  return out;
}

/** Collects the request body as the HTTP parser hands it to the request stream, without consuming it. */
function captureRequest(req: IncomingMessage): () => Buffer | undefined {
  const chunks: Buffer[] = [];
  let size = 0;
  const push = req.push;
  req.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk !== null && chunk !== undefined && size < MAX_CAPTURED_BODY) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding);
      chunks.push(b);
      size += b.length;
    }
    return push.call(this, chunk, encoding);
  } as typeof req.push;
  return () => (size > 0 && size <= MAX_CAPTURED_BODY ? Buffer.concat(chunks) : undefined);
}

/** Collects what a response writes (up to a bound). */
function captureResponse(res: ServerResponse): () => Buffer | undefined {
  const chunks: Buffer[] = [];
  let size = 0;
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_CAPTURED_BODY) return;
    const b = Buffer.isBuffer(chunk) ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    chunks.push(b);
    size += b.length;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  return () => (size > 0 && size <= MAX_CAPTURED_BODY ? Buffer.concat(chunks) : undefined);
}

/**
 * Captures a child process's standard output (where the standalone server logs) and records
 * the secrets of its config file (`SWITCHBOARD_CONFIG`) and database URL. Returns the
 * capture to write the child's output to, or undefined when capture is off.
 */
export function captureChild(env: NodeJS.ProcessEnv, label = 'child'): LogCapture | undefined {
  const capture = LogCapture.open(label, env);
  if (!capture) return undefined;
  const file = env.SWITCHBOARD_CONFIG;
  if (file) {
    try {
      const text = fs.readFileSync(file, 'utf8');
      const config = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
      if (config && typeof config === 'object') recordStandaloneConfig(capture, config, `config ${path.basename(file)}`);
    } catch {
      // The test may be checking a bad config: nothing to record.
    }
  }
  const password = /^postgres(ql)?:\/\/[^:/]+:([^@]+)@/.exec(env.DATABASE_URL ?? '')?.[2];
  if (password) capture.secret(decodeURIComponent(password), 'DATABASE_URL');
  return capture;
}

/** Records the secrets of a standalone config: user passwords, plugin secrets, the database password. */
export function recordStandaloneConfig(capture: LogCapture, config: Record<string, any>, source: string): void {
  for (const user of Array.isArray(config.users) ? config.users : []) capture.secret(user?.password, `${source} users.${user?.id}.password`);
  if (config.plugins && typeof config.plugins === 'object') capture.secretsIn(config.plugins, `${source} plugins`);
  const url = config.database?.url;
  const password = typeof url === 'string' ? /^postgres(ql)?:\/\/[^:/]+:([^@]+)@/.exec(url)?.[2] : undefined;
  if (password) capture.secret(decodeURIComponent(password), `${source} database.url`);
}
