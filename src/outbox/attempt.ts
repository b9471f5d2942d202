/**
 * One delivery attempt: a POST with a hard timeout, the URL policy enforced on the address
 * actually connected to, no redirects followed, and at most 64 KiB of the answer read.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { UrlPolicy } from './url-policy.js';

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

/** Sends one POST. Never throws. */
export function attemptDelivery(url: URL, headers: Record<string, string>, body: Buffer, timeoutMs: number, policy: UrlPolicy, signal?: AbortSignal): Promise<AttemptResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, durationMs: Date.now() - started });
    };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host)) {
      const why = policy.refusal(host);
      if (why) return finish({ error: why, refused: true });
    }
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
      lookup: policy.lookup(),
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => req.destroy(new Error('aborted: the kernel is stopping'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
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
      finish({ error: err.code && !refused ? `${err.code}: ${err.message}` : err.message, refused });
    });
    req.end(body);
  });
}
