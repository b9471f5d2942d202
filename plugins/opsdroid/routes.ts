/**
 * The wire contract: opsdroid's REST API (`GET /`, `GET /stats/`,
 * `POST /skill/{skill}/{webhook}`), the websocket connector (`POST /connector/websocket`
 * and the websocket at `/connector/websocket/{socket}`), and the command center
 * (`GET`/`PATCH /connectors`, `/skills`, `/databases`, `/parsers`, `GET /config`). Every
 * path answers with and without a trailing slash; errors are aiohttp's plain text.
 */
import { HttpError, reply, safeEqual, staticToken, Type, type PluginContext, type RequestHook } from '../../src/index.js';
import type { OpsdroidConfig } from './config.js';
import { corsHook } from './cors.js';
import { bearerTokenOf } from './header-token.js';
import { WebhookRequest, WebhookResponse } from './events.js';
import type { ModuleType } from './modules.js';
import { ModuleConfigError, ModuleNotFoundError, type Opsdroid } from './opsdroid.js';
import { parsePatchPayload, PatchPayloadError } from './patch-payload.js';
import { aiohttpResponder, reasonError } from './responder.js';

const StatsSchema = Type.Object({
  version: Type.String(),
  messages: Type.Object({
    total_parsed: Type.Integer(),
    webhooks_called: Type.Integer(),
    total_response_time: Type.Number({ description: 'Seconds, summed over answered events.' }),
    total_responses: Type.Integer(),
    average_response_time: Type.Number({ description: 'Seconds.' }),
  }),
  modules: Type.Object({ skills: Type.Integer(), connectors: Type.Integer(), databases: Type.Integer() }),
});

const ModuleConfigSchema = Type.Object(
  {
    name: Type.String(),
    module: Type.String(),
    type: Type.String(),
    enabled: Type.Boolean(),
    entrypoint: Type.Null(),
    module_path: Type.String(),
    install_path: Type.String(),
    branch: Type.String(),
  },
  { additionalProperties: true },
);
const ModuleMapSchema = Type.Record(Type.String(), ModuleConfigSchema, { description: 'Module name → its configuration, sensitive keys removed.' });
const text = (description: string) => ({ description, schema: Type.String(), contentType: 'text/plain' });
const CalledSkill = Type.Object({ called_skill: Type.String() });

/** The command center's module sections and their paths. */
const SECTIONS: ReadonlyArray<{ type: ModuleType; path: string }> = [
  { type: 'connectors', path: '/connectors' },
  { type: 'skills', path: '/skills' },
  { type: 'databases', path: '/databases' },
  { type: 'parsers', path: '/parsers' },
];

/** Answers 404 for `/skill/{skill}/{webhook}` paths no enabled skill declares, whatever the method. */
function unknownWebhookHook(prefix: string, runtime: Opsdroid): RequestHook {
  const responder = aiohttpResponder();
  const lowerPrefix = prefix.toLowerCase();
  return (req, res) => {
    let path = req.path;
    if (lowerPrefix && path.toLowerCase().startsWith(lowerPrefix)) path = path.slice(lowerPrefix.length);
    const m = /^\/skill\/([^/]+)\/([^/]+)\/?$/i.exec(path);
    if (!m) return;
    let skill: string;
    let webhook: string;
    try {
      skill = decodeURIComponent(m[1]);
      webhook = decodeURIComponent(m[2]);
    } catch {
      skill = m[1];
      webhook = m[2];
    }
    if (!runtime.findWebhook(skill, webhook)) responder.error(req, res, new HttpError(404, 'Not Found'));
  };
}

/** Declares every route and the websocket of the plugin. */
export function declareRoutes(ctx: PluginContext<OpsdroidConfig>, runtime: Opsdroid): void {
  const web = ctx.config.web;
  const responder = aiohttpResponder();
  ctx.routes.defaults({ responder, methodNotAllowed: true });
  ctx.routes.onRequest(corsHook(web.cors));
  ctx.routes.onRequest(unknownWebhookHook(ctx.routes.prefix, runtime));

  if (!web.disable_web_index_handler_in_root) {
    ctx.routes.add({
      method: 'GET',
      path: '/',
      summary: 'Check that the API is running',
      responses: { 200: Type.Object({ message: Type.String() }) },
      handler: () => ({ message: 'Welcome to the opsdroid API' }),
    });
  }

  ctx.routes.add({
    method: 'GET',
    path: '/stats',
    summary: 'Runtime statistics',
    description: 'Messages parsed, webhooks called, responses and their response time (summed over every instance sharing the database), and the loaded modules.',
    responses: { 200: StatsSchema },
    handler: () => runtime.statsBody(),
  });

  const webhookToken = web['webhook-token'];
  ctx.routes.add({
    method: 'POST',
    path: '/skill/:skill/:webhook',
    summary: 'Call a webhook skill',
    description: 'When `web.webhook-token` is set, `Authorization: Bearer <token>` is required, the token being everything after `Bearer `, spaces included (403 otherwise). The skill may answer the request itself.',
    params: Type.Object({ skill: Type.String(), webhook: Type.String() }),
    accepts: 'raw',
    responses: { 200: CalledSkill, 403: CalledSkill, 404: text('No such skill or webhook'), 500: text('The skill failed') },
    handler: async ({ params, req, res, body, query }) => {
      const found = runtime.findWebhook(params.skill, params.webhook);
      if (!found) throw new HttpError(404, 'Not Found');
      if (webhookToken !== undefined) {
        const given = bearerTokenOf(req.headers.authorization);
        if (given === undefined || !safeEqual(given, webhookToken)) {
          ctx.logger.error({ webhook: params.webhook }, `Unauthorized to run skill ${params.webhook} via webhook`);
          return reply(403, { called_skill: params.webhook });
        }
      }
      const request = new WebhookRequest(params.skill, params.webhook, req.method, req.headers, query, Buffer.isBuffer(body) ? body : Buffer.alloc(0));
      const result = await runtime.callWebhook(found, request);
      if (result instanceof WebhookResponse) {
        res.status(result.status);
        for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
        if (result.body === undefined) res.end();
        else if (typeof result.body === 'string' || Buffer.isBuffer(result.body)) res.send(result.body);
        else res.json(result.body);
        return undefined;
      }
      return { called_skill: params.webhook };
    },
  });

  declareWebsocketConnector(ctx, runtime);

  // The connector and skill families are opsdroid's: unknown paths under them get its 404.
  ctx.routes.notFoundUnder('/skill');
  ctx.routes.notFoundUnder('/connector');

  const center = web['command-center'];
  if (!center.enabled) {
    for (const path of [...SECTIONS.map((s) => s.path), '/config']) ctx.routes.notFoundUnder(path);
    return;
  }
  const auth = staticToken({ tokens: [center.token!], fail: () => new HttpError(403, 'Forbidden') });
  for (const { type, path } of SECTIONS) {
    ctx.routes.add({
      method: 'GET',
      path,
      summary: `The ${type} and their configuration`,
      tags: ['opsdroid command center'],
      auth,
      responses: { 200: ModuleMapSchema, 403: text('Missing or wrong token') },
      handler: () => runtime.moduleViews(type),
    });
    ctx.routes.add({
      method: 'PATCH',
      path,
      summary: 'Change a module\'s configuration',
      description: 'Body (JSON, read whatever the content type, as opsdroid does): `{"module_type": "connectors|skills|databases|parsers", "module_name": "…", "config": {…}}`. Shallow-merges `config` into the module\'s configuration (the body\'s `module_type` decides the section), persists it and reloads the module; `enabled: false` stops it.',
      tags: ['opsdroid command center'],
      auth,
      accepts: 'text',
      responses: {
        204: { description: 'Changed and reloaded' },
        400: text('Invalid body, with opsdroid\'s reason'),
        403: text('Missing or wrong token'),
        404: text('No such module'),
      },
      handler: async ({ body }) => {
        try {
          const payload = parsePatchPayload(typeof body === 'string' ? body : '');
          await runtime.reconfigure(payload.module_type, payload.module_name, payload.config);
        } catch (err) {
          if (err instanceof PatchPayloadError) throw reasonError(400, err.reason);
          if (err instanceof ModuleNotFoundError) throw reasonError(404, err.message);
          if (err instanceof ModuleConfigError) throw reasonError(400, err.message);
          throw err;
        }
        return reply(204);
      },
    });
  }
  ctx.routes.add({
    method: 'GET',
    path: '/config',
    summary: 'The whole configuration, sensitive keys removed',
    tags: ['opsdroid command center'],
    auth,
    responses: { 200: Type.Object({}, { additionalProperties: true }), 403: text('Missing or wrong token') },
    handler: () => runtime.configView(),
  });
}

/** `POST /connector/websocket` and the websocket at `/connector/websocket/{socket}`. */
function declareWebsocketConnector(ctx: PluginContext<OpsdroidConfig>, runtime: Opsdroid): void {
  const cors = { 'Access-Control-Allow-Origin': '*' };
  ctx.routes.add({
    method: 'POST',
    path: '/connector/websocket',
    summary: 'Request a websocket (opsdroid\'s websocket connector)',
    description: 'Answers a socket id; open the websocket at `/connector/websocket/{socket}` within `connection-timeout` seconds and chat in text frames.',
    tags: ['opsdroid websocket connector'],
    accepts: 'raw',
    responses: {
      200: Type.Object({ socket: Type.String() }),
      401: text('The connector has a token and the request did not carry it'),
      404: text('The websocket connector is not configured'),
      429: Type.Literal('No connections available'),
    },
    handler: async ({ req }) => {
      if (!runtime.isConfigured('connectors', 'websocket')) throw new HttpError(404, 'Not Found');
      const connector = runtime.websocket();
      if (!connector) return reply(429, 'No connections available', cors);
      if (!connector.authorize(req.headers.authorization)) throw new HttpError(401, 'Unauthorized');
      const socket = await connector.requestSocket();
      return socket ? reply(200, { socket }, cors) : reply(429, 'No connections available', cors);
    },
  });
  ctx.websockets.add({
    path: '/connector/websocket/:socket',
    async verify(_req, params) {
      const connector = runtime.websocket();
      const claim = connector ? await connector.claim(params.socket) : 'unknown';
      if (claim === 'unknown') return { status: 400, body: JSON.stringify('Please request a socket first') };
      if (claim === 'timed-out') return { status: 408, body: JSON.stringify('Socket request timed out') };
      return undefined;
    },
    handler(ws, _req, params) {
      const connector = runtime.websocket();
      if (connector) connector.attach(params.socket, ws);
      else ws.close(1001, 'Server shutdown');
    },
  });
}
