/**
 * The `websocket` connector, compatible with opsdroid's: a client asks for a socket with
 * `POST /connector/websocket` (→ `{"socket": "<id>"}`, 429 past `max-connections`), then
 * opens a websocket at `/connector/websocket/{id}` within `connection-timeout` seconds and
 * chats in plain text frames. A frame may also be JSON `{"message", "user"}` to name the
 * user, as opsdroid accepts.
 */
import crypto from 'node:crypto';
import { safeEqual, Type, type TSchema } from '../../../src/index.js';
import type { WebSocket } from 'ws';
import type { Connector, ConnectorEnv, ConnectorKind, Delivery } from './connector.js';
import { headerTokenSchema } from '../header-token.js';

/** The websocket connector's config keys (opsdroid's, plus `enabled`). */
export const WebsocketConfigSchema: TSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    'bot-name': Type.Optional(Type.String({ description: 'The bot\'s name (default "opsdroid").' })),
    'max-connections': Type.Optional(Type.Integer({ minimum: 0, description: 'Open websockets plus pending socket requests allowed at once (default 10).' })),
    'connection-timeout': Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Seconds a socket request waits for its websocket (default 60).' })),
    token: Type.Optional(headerTokenSchema('When set, `POST /connector/websocket` needs `Authorization: <token>`.', { emptyMeansNone: true })),
  },
  { additionalProperties: true },
);

/** The outcome of taking a socket request for a websocket. */
export type SocketClaim = 'ok' | 'unknown' | 'timed-out';

/** A websocket frame as a message. */
export interface WebsocketFrame {
  /** The message text. */
  message: string;
  /** The user named by a JSON frame, else null. */
  user: string | null;
}

/** The text of a websocket frame, read as opsdroid does: JSON `{"message", "user"}` or plain text. */
export function parseFrame(text: string): WebsocketFrame {
  if (text.trimStart().startsWith('{')) {
    try {
      const data = JSON.parse(text) as Record<string, unknown>;
      if (data && typeof data === 'object' && !Array.isArray(data) && typeof data.message === 'string') {
        return { message: data.message, user: typeof data.user === 'string' ? data.user : null };
      }
    } catch {
      // Not JSON: plain text.
    }
  }
  return { message: text, user: null };
}

/** A running websocket connector. */
export class WebsocketConnector implements Connector {
  /** The bot's name. */
  readonly botName: string;
  /** Open sockets plus pending requests allowed at once. */
  readonly maxConnections: number;
  /** Seconds a request waits for its websocket. */
  readonly connectionTimeout: number;
  private readonly token?: string;
  private accepting = false;
  private readonly active = new Map<string, WebSocket>();
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param name - the connector's name
   * @param config - its configuration
   * @param env - the runtime
   */
  constructor(
    readonly name: string,
    config: Readonly<Record<string, unknown>>,
    private readonly env: ConnectorEnv,
  ) {
    this.botName = typeof config['bot-name'] === 'string' ? config['bot-name'] : 'opsdroid';
    this.maxConnections = typeof config['max-connections'] === 'number' ? config['max-connections'] : 10;
    this.connectionTimeout = typeof config['connection-timeout'] === 'number' ? config['connection-timeout'] : 60;
    this.token = typeof config.token === 'string' && config.token !== '' ? config.token : undefined;
  }

  /** Starts accepting socket requests. */
  async start(): Promise<void> {
    this.accepting = true;
  }

  /** Refuses new requests, forgets pending ones and closes open sockets (1001, as opsdroid does). */
  async stop(): Promise<void> {
    this.accepting = false;
    await this.serialized(() => this.env.sockets.clear(this.name));
    for (const ws of this.active.values()) ws.close(1001, 'Server shutdown');
    this.active.clear();
  }

  /** How many websockets are open on this instance. */
  get openSockets(): number {
    return this.active.size;
  }

  /** True when the request may ask for a socket (no token configured, or the exact token). */
  authorize(authorization: string | undefined): boolean {
    if (this.token === undefined) return true;
    return typeof authorization === 'string' && safeEqual(authorization, this.token);
  }

  /** Reserves a socket id; null when every connection is taken (or the connector is stopping). */
  requestSocket(): Promise<string | null> {
    return this.serialized(async () => {
      const now = this.env.clock.now();
      const timeoutMs = this.connectionTimeout * 1000;
      // Requests that timed out stop counting at once; their rows stay a while to answer 408.
      await this.env.sockets.purge(this.name, new Date(now.getTime() - timeoutMs - 3_600_000));
      const pending = await this.env.sockets.countSince(this.name, new Date(now.getTime() - timeoutMs));
      if (!this.accepting || this.active.size + pending >= this.maxConnections) return null;
      const socket = crypto.randomUUID();
      await this.env.sockets.create(this.name, socket, now);
      return socket;
    });
  }

  /** Takes a socket request for an opening websocket. */
  async claim(socket: string): Promise<SocketClaim> {
    if (!this.accepting) return 'unknown';
    const createdAt = await this.env.sockets.take(this.name, socket);
    if (!createdAt) return 'unknown';
    const age = this.env.clock.now().getTime() - createdAt.getTime();
    return age > this.connectionTimeout * 1000 ? 'timed-out' : 'ok';
  }

  /** Takes over an opened websocket: its text frames become messages. */
  attach(socket: string, ws: WebSocket): void {
    if (!this.accepting) {
      ws.close(1001, 'Server shutdown');
      return;
    }
    this.active.get(socket)?.close(1001, 'Replaced');
    this.active.set(socket, ws);
    this.env.logger.debug({ socket }, 'user connected to websocket');
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const frame = parseFrame(String(data));
      void this.env.receive({ text: frame.message, user: frame.user, target: socket, connector: this.name });
    });
    ws.on('close', () => {
      if (this.active.get(socket) === ws) this.active.delete(socket);
    });
  }

  /** Sends a text frame to the target socket, or to every open socket when there is none. */
  async send(delivery: Delivery): Promise<void> {
    const targets = delivery.target === null ? [...this.active.values()] : [this.active.get(delivery.target)].filter((w): w is WebSocket => w !== undefined);
    if (targets.length === 0) {
      this.env.logger.warn({ target: delivery.target }, 'no open websocket for the response');
      return;
    }
    await Promise.all(targets.map((ws) => new Promise<void>((resolve) => ws.send(delivery.text, () => resolve()))));
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The `websocket` connector kind. */
export const websocketConnector: ConnectorKind = {
  name: 'websocket',
  builtin: true,
  schema: WebsocketConfigSchema,
  create: (config, env) => new WebsocketConnector(String(config.name ?? 'websocket'), config, env),
};
