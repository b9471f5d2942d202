/** A websocket client for tests (the `ws` package): every frame it receives, and waiting for one. */
import WebSocket from 'ws';

/** An open websocket and what it received. */
export interface WsClient {
  /** The socket. */
  ws: WebSocket;
  /** Every text frame received so far, in order. */
  frames: string[];
  /** Sends a text frame (objects as JSON). */
  send(frame: string | object): void;
  /** Resolves with the first frame from index `from` on (received before or after the call) that `match` accepts. */
  next(match: (frame: string) => boolean, timeoutMs?: number, from?: number): Promise<string>;
  /** Closes the socket and waits until it is closed. */
  close(): Promise<void>;
}

/** Opens `url`; rejects with the HTTP status when the upgrade is refused. */
export function openWs(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: string[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data) => {
      frames.push(String(data));
      for (const w of [...waiters]) w();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
        next: (match, timeoutMs = 10_000, from = 0) =>
          new Promise((res, rej) => {
            let seen = from;
            const check = () => {
              for (; seen < frames.length; seen++) {
                if (match(frames[seen])) {
                  waiters.delete(check);
                  clearTimeout(timer);
                  return res(frames[seen]);
                }
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`no matching frame within ${timeoutMs} ms; received: ${JSON.stringify(frames).slice(-1500)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () =>
          new Promise<void>((res) => {
            if (ws.readyState === WebSocket.CLOSED) return res();
            ws.once('close', () => res());
            ws.close();
          }),
      }),
    );
  });
}
