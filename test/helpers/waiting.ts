/** Waiting in tests: for a condition to hold, and for a port that nothing listens on. */
import net from 'node:net';

/**
 * Calls `probe` every `intervalMs` until it gives a value (anything but `undefined`, `null`
 * or `false`) and returns that value; throws `timed out waiting for <what>` after `timeoutMs`.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A local port that nothing listens on now (bound, then closed): a receiver that is down. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
