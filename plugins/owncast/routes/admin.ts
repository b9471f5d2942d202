/** The admin API (HTTP Basic, `admin` + stream key): status, moderation, metrics, logs, tokens, webhooks. */
import { HttpError, Type } from '../../../src/index.js';
import { BroadcastError } from '../broadcasts.js';
import {
  AccessTokenSchema,
  AdminStatusSchema,
  BasicResponseSchema,
  ChatMessagesSchema,
  ClientSchema,
  ErrorSchema,
  HardwareStatsSchema,
  LogEntrySchema,
  ServerConfigSchema,
  TimestampedValueSchema,
  WebhookSchema,
} from '../schemas.js';
import { adminStatusView, serverConfigView } from '../views.js';
import { badRequest, failed, ok } from '../wire.js';
import type { RouteKit } from './kit.js';

/** Logrus level names, as Owncast's log endpoints show them. */
const LEVELS: ReadonlyMap<string, string> = new Map([['warn', 'warning']]);

/** The body of a visibility update. */
export const VisibilityBody = Type.Object({
  idArray: Type.Array(Type.String(), { minItems: 1, description: 'Ids of the messages to hide or show.' }),
  visible: Type.Boolean(),
});

/** The handler shared by the admin and integration visibility routes. */
export function visibilityHandler(kit: RouteKit) {
  return async ({ body }: { body: { idArray: string[]; visible: boolean } }) => {
    await kit.owncast.chat.setVisibility(body.idArray, body.visible);
    return ok('changed');
  };
}

/** Declares the admin routes (configuration setters are in `admin-config.ts`). */
export function adminRoutes(kit: RouteKit): void {
  const { owncast, ctx } = kit;
  const auth = kit.admin;
  const tags = ['Admin'];

  kit.add({
    method: 'GET',
    path: '/api/admin/status',
    summary: 'Server status and broadcaster',
    tags,
    auth,
    responses: { 200: AdminStatusSchema },
    handler: () => adminStatusView(owncast.state.current, owncast.connections.count(), owncast.settings.settings, ctx.config.versionNumber),
  });

  kit.post(
    {
      path: '/api/admin/disconnect',
      summary: 'Disconnect Broadcaster',
      description: 'Ends the broadcast and tells the host to drop the publisher (event `owncast.broadcast.disconnect-requested`).',
      tags,
      auth,
      responses: { 200: BasicResponseSchema, 400: BasicResponseSchema },
      handler: async () => {
        try {
          await owncast.broadcasts.requestDisconnect();
        } catch (err) {
          if (err instanceof BroadcastError) return failed(err.message);
          throw err;
        }
        return ok('inbound stream disconnected');
      },
    },
    { basic: true },
  );

  kit.post(
    {
      path: '/api/admin/yp/reset',
      summary: 'Reset your YP registration key.',
      tags,
      auth,
      responses: { 200: BasicResponseSchema },
      handler: async () => {
        await owncast.settings.update({ ypRegistrationKey: '' });
        return ok('reset');
      },
    },
    { basic: true },
  );

  kit.add({
    method: 'GET',
    path: '/api/admin/clients',
    summary: 'Return a list of currently connected clients',
    tags,
    auth,
    responses: { 200: Type.Array(ClientSchema) },
    handler: () => owncast.connections.clients(),
  });

  const logs = (minLevel: string) => () =>
    ctx.logs.entries(minLevel).map((e) => ({ message: e.message, level: LEVELS.get(e.level) ?? e.level, time: e.time.toISOString() }));
  kit.add({ method: 'GET', path: '/api/admin/logs', summary: 'Return recent log entries', tags, auth, responses: { 200: Type.Array(LogEntrySchema) }, handler: logs('trace') });
  kit.add({
    method: 'GET',
    path: '/api/admin/logs/warnings',
    summary: 'Return recent warning and error logs.',
    tags,
    auth,
    responses: { 200: Type.Array(LogEntrySchema) },
    handler: logs('warn'),
  });

  kit.add({
    method: 'GET',
    path: '/api/admin/serverconfig',
    summary: 'Server Configuration',
    tags,
    auth,
    responses: { 200: ServerConfigSchema },
    handler: () => serverConfigView(owncast.settings.settings, owncast.settings.streamKey(), owncast.version),
  });

  kit.add({
    method: 'GET',
    path: '/api/admin/chat/messages',
    summary: 'Chat messages, unfiltered.',
    description: 'Every CHAT message of the recent window, hidden ones too, oldest first.',
    tags,
    auth,
    responses: { 200: ChatMessagesSchema },
    handler: () => owncast.chat.moderationHistory(),
  });

  kit.post(
    {
      path: '/api/admin/chat/updatemessagevisibility',
      summary: 'Update the visibility of chat messages.',
      tags,
      auth,
      body: VisibilityBody,
      bodyLimit: '8mb',
      responses: { 200: BasicResponseSchema, 400: BasicResponseSchema },
      handler: visibilityHandler(kit) as never,
    },
    { basic: true },
  );

  kit.add({
    method: 'GET',
    path: '/api/admin/viewersOverTime',
    summary: 'Viewers Over Time',
    tags,
    auth,
    responses: { 200: Type.Array(TimestampedValueSchema) },
    handler: () => owncast.metrics.viewers(),
  });
  kit.add({
    method: 'GET',
    path: '/api/admin/hardwarestats',
    summary: 'Hardware Stats',
    tags,
    auth,
    responses: { 200: HardwareStatsSchema },
    handler: () => owncast.metrics.hardware(),
  });

  // Access tokens.
  kit.post({
    path: '/api/admin/accesstokens/create',
    summary: 'Create an access token.',
    tags: ['Integrations'],
    auth,
    body: Type.Object({ name: Type.String({ minLength: 1 }), scopes: Type.Array(Type.String()) }),
    responses: { 200: AccessTokenSchema, 400: ErrorSchema },
    handler: ({ body }) => {
      const b = body as { name: string; scopes: string[] };
      return owncast.tokens.create(b.name, b.scopes);
    },
  });
  kit.post(
    {
      path: '/api/admin/accesstokens/delete',
      summary: 'Delete an access token.',
      tags: ['Integrations'],
      auth,
      body: Type.Object({ token: Type.Optional(Type.String()) }),
      responses: { 200: BasicResponseSchema, 400: ErrorSchema },
      handler: async ({ body }) => {
        const token = (body as { token?: string }).token;
        if (!token) throw badRequest('must provide a token');
        if (!(await owncast.tokens.delete(token))) throw badRequest('token not found');
        return ok('deleted token');
      },
    },
  );
  kit.add({
    method: 'GET',
    path: '/api/admin/accesstokens',
    summary: 'Return all access tokens.',
    tags: ['Integrations'],
    auth,
    responses: { 200: Type.Array(AccessTokenSchema) },
    handler: () => owncast.tokens.list(),
  });

  // Webhooks.
  kit.add({ method: 'GET', path: '/api/admin/webhooks', summary: 'Return all webhooks.', tags, auth, responses: { 200: Type.Array(WebhookSchema) }, handler: () => owncast.webhooks.list() });
  kit.post({
    path: '/api/admin/webhooks/create',
    summary: 'Create a webhook.',
    tags,
    auth,
    body: Type.Object({ url: Type.String({ minLength: 1 }), events: Type.Array(Type.String(), { minItems: 1 }) }),
    responses: { 200: WebhookSchema, 400: ErrorSchema },
    handler: ({ body }) => {
      const b = body as { url: string; events: string[] };
      return owncast.webhooks.create(b.url, b.events);
    },
  });
  kit.post({
    path: '/api/admin/webhooks/delete',
    summary: 'Delete a single webhook.',
    tags,
    auth,
    body: Type.Object({ id: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[1-9][0-9]{0,15}$' })]) }),
    responses: { 200: BasicResponseSchema, 400: ErrorSchema },
    handler: async ({ body }) => {
      const id = Number((body as { id: number | string }).id);
      // Ids are 32-bit in the database; a larger one names no webhook (and must not reach SQL).
      if (id > 2_147_483_647 || !(await owncast.webhooks.delete(id))) throw new HttpError(400, `webhook ${(body as { id: number | string }).id} not found`);
      return ok('deleted webhook');
    },
  });
}
