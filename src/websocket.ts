/**
 * Websocket upgrades for plugins (opsdroid's websocket connector, Owncast chat at `/entry`).
 *
 * Routers cannot take upgrades, so plugins register upgrade handlers by path here, and the
 * host hands its `http.Server` to the kernel once (`kernel.attach(server)`). Upgrades are
 * refused (503) unless the kernel is running, and every socket is closed when it stops.
 * Uses the `ws` library in `noServer` mode.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { match, type MatchFunction } from 'path-to-regexp';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from './logger.js';

/** A refusal of an upgrade: written as a plain HTTP answer before the socket is closed. */
export interface UpgradeRefusal {
  /** HTTP status. */
  status: number;
  /** Plain-text body. */
  body: string;
  /** Extra response headers (e.g. CORS). */
  headers?: Record<string, string>;
}

/** How a plugin serves one websocket path. */
export interface WebSocketRoute {
  /** Express-style path relative to the plugin's mount, e.g. `/connector/websocket/:socket`. */
  path: string;
  /** Decides whether to accept the upgrade; return a refusal to answer with an HTTP error. */
  verify?(req: IncomingMessage, params: Record<string, string>): UpgradeRefusal | undefined | Promise<UpgradeRefusal | undefined>;
  /** Called with each accepted socket. */
  handler(socket: WebSocket, req: IncomingMessage, params: Record<string, string>): void;
}

/** What a plugin uses to register websocket paths (`ctx.websockets`). */
export interface WebSocketRegistrar {
  /** Registers a websocket path. */
  add(route: WebSocketRoute): void;
  /** The sockets of this plugin that are open now. */
  clients(): ReadonlySet<WebSocket>;
}

interface RegisteredSocketRoute {
  pluginId: string;
  route: WebSocketRoute;
  match: MatchFunction<Record<string, string>>;
  clients: Set<WebSocket>;
}

/** The largest websocket message accepted (1 MiB). */
export const MAX_WEBSOCKET_PAYLOAD = 1024 * 1024;

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 429: 'Too Many Requests', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  const text = STATUS_TEXT[status] ?? 'Error';
  // Header names and values come from plugins; CR/LF are dropped so nothing can be injected.
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k.replace(/[\r\n:]/g, '')}: ${String(v).replace(/[\r\n]/g, '')}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}

/** The kernel's websocket hub. */
export class WebSocketHub {
  private readonly routes: RegisteredSocketRoute[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WEBSOCKET_PAYLOAD });
  private readonly servers = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
  private readonly byPlugin = new Map<string, Set<WebSocket>>();

  /**
   * @param isOpen - true while the kernel is running
   * @param basePath - where the kernel is mounted in the host app
   * @param logger - for handler failures
   */
  constructor(
    private readonly isOpen: () => boolean,
    private readonly basePath: string,
    private readonly logger: Logger,
  ) {}

  /** Creates the registrar of one plugin. */
  registrar(pluginId: string, prefix: string): WebSocketRegistrar {
    const clients = new Set<WebSocket>();
    this.byPlugin.set(pluginId, clients);
    return {
      add: (route) => {
        const base = `${this.basePath}${prefix}`.replace(/\/+$/, '');
        const full = `${base}${route.path.startsWith('/') ? route.path : `/${route.path}`}`;
        this.routes.push({ pluginId, route, match: match(full, { decode: decodeURIComponent, trailing: true }), clients });
      },
      clients: () => clients,
    };
  }

  /** Starts taking upgrades on a server; returns a function that stops it. */
  attach(server: Server): () => void {
    if (this.servers.has(server)) return () => this.detach(server);
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(server, req, socket, head);
    this.servers.set(server, listener);
    server.on('upgrade', listener);
    return () => this.detach(server);
  }

  /** Stops taking upgrades on a server. */
  detach(server: Server): void {
    const listener = this.servers.get(server);
    if (listener) server.off('upgrade', listener);
    this.servers.delete(server);
  }

  /** Every open socket. */
  get size(): number {
    return this.wss.clients.size;
  }

  /** Open sockets by plugin id (for the `switchboard_websocket_connections` metric). */
  connectionsByPlugin(): Map<string, number> {
    return new Map([...this.byPlugin].map(([id, clients]) => [id, clients.size]));
  }

  private async upgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const pathname = (req.url ?? '/').split('?', 1)[0];
    let found: RegisteredSocketRoute | undefined;
    let params: Record<string, string> = {};
    for (const r of this.routes) {
      let m: ReturnType<MatchFunction<Record<string, string>>> = false;
      try {
        m = r.match(pathname);
      } catch {
        m = false;
      }
      if (m) {
        found = r;
        params = m.params;
        break;
      }
    }
    if (!found) {
      // Leave the upgrade to another listener of the host's, if it has one.
      if (server.listenerCount('upgrade') <= 1) refuse(socket, 404, 'Not Found');
      return;
    }
    if (!this.isOpen()) return refuse(socket, 503, 'Service Unavailable');
    try {
      const refusal = await found.route.verify?.(req, params);
      if (refusal) return refuse(socket, refusal.status, refusal.body, refusal.headers);
      if (!this.isOpen()) return refuse(socket, 503, 'Service Unavailable');
      const route = found;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        route.clients.add(ws);
        ws.on('close', () => route.clients.delete(ws));
        ws.on('error', (err) => this.logger.debug({ err, plugin: route.pluginId }, 'websocket error'));
        try {
          route.route.handler(ws, req, params);
        } catch (err) {
          this.logger.error({ err, plugin: route.pluginId }, 'websocket handler failed');
          ws.close(1011, 'Internal error');
        }
      });
    } catch (err) {
      this.logger.error({ err, plugin: found.pluginId }, 'websocket upgrade failed');
      refuse(socket, 500, 'Internal Server Error');
    }
  }

  /** Closes every socket (1001 going away) and stops taking upgrades. */
  async closeAll(timeoutMs = 1000): Promise<void> {
    for (const server of [...this.servers.keys()]) this.detach(server);
    const open = [...this.wss.clients];
    if (open.length === 0) return;
    await new Promise<void>((resolve) => {
      let left = open.length;
      const timer = setTimeout(() => {
        for (const ws of open) ws.terminate();
        resolve();
      }, timeoutMs);
      timer.unref();
      for (const ws of open) {
        ws.once('close', () => {
          if (--left === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        ws.close(1001, 'Server shutting down');
      }
    });
  }
}
