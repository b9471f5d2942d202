/** A real local HTTP receiver for outbound delivery tests. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** What the receiver answers: a status (and headers), or 'hang' to never answer. */
export type Behaviour = (req: Received, index: number) => { status: number; headers?: Record<string, string> } | 'hang';

/** A receiver listening on 127.0.0.1. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Changes how it answers from now on. */
  behave(b: Behaviour): void;
  /** Resolves once `n` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(behaviour: Behaviour = () => ({ status: 200 }), port = 0): Promise<Receiver> {
  const received: Received[] = [];
  let current = behaviour;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      received.push(r);
      for (const w of [...waiters]) if (received.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      const answer = current(r, received.length - 1);
      if (answer === 'hang') return;
      res.writeHead(answer.status, answer.headers).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    behave: (b) => (current = b),
    waitFor: (n, timeoutMs = 10_000) =>
      received.length >= n
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${n} requests arrived`)), timeoutMs);
            waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
          }),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
