/**
 * A raw HTTP client for hostile requests: the path is sent exactly as given (no URL
 * normalisation, so `..` segments and odd encodings reach the server), headers and body as
 * given, and a dropped connection is reported instead of thrown.
 */
import http from 'node:http';

/** A request to send. */
export interface Sending {
  /** The method. */
  method: string;
  /** The raw request target, e.g. `/a/b?c=d` (sent byte for byte). */
  path: string;
  /** Headers (lower-case names); a list sends the header several times. */
  headers?: Record<string, string | string[]>;
  /** The body. */
  body?: string | Buffer;
  /** Give up after this long (ms, default 15 s): reported as `error: 'timeout'`. */
  timeoutMs?: number;
}

/** What came back. */
export interface Sent {
  /** The status, or 0 when no response arrived. */
  status: number;
  /** Response headers. */
  headers: http.IncomingHttpHeaders;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
  /** Why no (complete) response arrived: a dropped connection, a timeout. */
  error?: string;
}

// Idle sockets are dropped before the server's keep-alive timeout (5 s) could close them under a request.
const agent = new http.Agent({ keepAlive: true, maxSockets: 8, timeout: 4000 });

/** `Basic …` for a user and password. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Sends one request to `base` (`http://host:port`). */
export function send(base: string, input: Sending): Promise<Sent> {
  const target = new URL(base);
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: Sent) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    const headers: Record<string, string | string[]> = { ...input.headers };
    if (input.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(input.body));
    let req: http.ClientRequest;
    try {
      req = http.request({ host: target.hostname, port: target.port, method: input.method, path: input.path, headers, agent, insecureHTTPParser: false });
    } catch (err) {
      // The client itself refused (e.g. a character Node will not put in a request line).
      done({ status: -1, headers: {}, text: '', json: undefined, error: `client refused: ${(err as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
    }, input.timeoutMs ?? 15_000);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        clearTimeout(timer);
        done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), json: undefined, error: `response broken: ${err.message}` });
      });
      res.on('aborted', () => {
        clearTimeout(timer);
        done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), json: undefined, error: 'response aborted' });
      });
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        if (/json/i.test(String(res.headers['content-type'] ?? ''))) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        done({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      done({ status: 0, headers: {}, text: '', json: undefined, error: err.message === 'timeout' ? 'timeout' : `connection dropped: ${err.message}` });
    });
    if (input.body !== undefined) req.end(input.body);
    else req.end();
  });
}
