/**
 * One delivery attempt: a POST with a hard timeout, the URL policy enforced on the address
 * actually connected to, no redirects followed, and at most 64 KiB of the answer read.
 * Connections are kept alive between attempts to the same origin (a new TCP connection per
 * attempt cost about half of a delivery to a local receiver); a connection is only ever
 * reused for the host and port it was opened to, whose address the policy checked then.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { hostOf, type UrlPolicy } from './url-policy.js';

/** The outcome of one HTTP attempt. */
export interface AttemptResult {
  /** The HTTP status, when an answer arrived. */
  status?: number;
  /** The error, when none did (or the policy refused the address). */
  error?: string;
  /** Seconds from the `Retry-After` header, when present and sane. */
  retryAfterMs?: number;
  /** How long the attempt took. */
  durationMs: number;
  /** True when the policy refused the destination: retrying cannot help. */
  refused?: boolean;
}

const MAX_ANSWER_BYTES = 64 * 1024;
/** The longest `Retry-After` honoured (1 hour). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** How long an idle kept-alive connection to a receiver stays open, in ms (shorter still when the receiver says so in `Keep-Alive`). */
export const IDLE_CONNECTION_MS = 4000;

/** The connection pools of one outbox: one for http, one for https. */
export interface DeliveryAgents {
  /** For `http:` URLs. */
  http: http.Agent;
  /** For `https:` URLs. */
  https: https.Agent;
}

/** Connection pools that keep connections to receivers alive between attempts; `destroy` them at stop. */
export function createDeliveryAgents(): DeliveryAgents {
  const options = { keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' as const };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

/**
 * Sends one POST. Never throws. With `agents`, a kept-alive connection may be used; when the
 * receiver had closed it just before (the request fails on a reused connection before any
 * answer), the POST is sent once more on a fresh connection, as a receiver closing an idle
 * connection is no failure of the receiver.
 */
export async function attemptDelivery(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  policy: UrlPolicy,
  signal?: AbortSignal,
  agents?: DeliveryAgents,
): Promise<AttemptResult> {
  const started = Date.now();
  const first = await post(url, headers, body, timeoutMs, policy, signal, agents);
  if (!first.staleConnection) return first.result;
  const left = timeoutMs - (Date.now() - started);
  if (left <= 0 || signal?.aborted) return { ...first.result, durationMs: Date.now() - started };
  const second = await post(url, headers, body, left, policy, signal, undefined);
  return { ...second.result, durationMs: Date.now() - started };
}

function post(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  policy: UrlPolicy,
  signal: AbortSignal | undefined,
  agents: DeliveryAgents | undefined,
): Promise<{ result: AttemptResult; staleConnection?: boolean }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    // Declared before `finish`, which a refusal calls before any request exists (as a `const`
    // below, the refusal threw "Cannot access 'timer' before initialization" instead).
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const finish = (result: Omit<AttemptResult, 'durationMs'>, staleConnection = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      resolve({ result: { ...result, durationMs: Date.now() - started }, ...(staleConnection ? { staleConnection } : {}) });
    };
    const host = hostOf(url);
    if (net.isIP(host)) {
      const why = policy.refusal(host);
      if (why) return finish({ error: why, refused: true });
    }
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
      lookup: policy.lookup(),
      agent: agents ? (secure ? agents.https : agents.http) : false,
    });
    timer = setTimeout(() => {
      req.destroy(new Error(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    onAbort = () => req.destroy(new Error('aborted: the kernel is stopping'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      answered = true;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      const done = () =>
        finish({ status: res.statusCode, retryAfterMs: parseRetryAfter(res.headers['retry-after'] as string | undefined) });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', (err: Error & { code?: string }) => {
      const refused = err.name === 'SwitchboardError';
      const stale = req.reusedSocket && !answered && !signal?.aborted && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      finish({ error: err.code && !refused ? `${err.code}: ${err.message}` : err.message, refused }, stale);
    });
    req.end(body);
  });
}
