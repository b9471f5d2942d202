/**
 * The integrations API: Bearer access tokens, each route requiring one scope (exact match):
 * `CAN_SEND_SYSTEM_MESSAGES` for system messages and actions, `CAN_SEND_MESSAGES` for user
 * messages, `HAS_ADMIN_ACCESS` for the stream title, the chat history, the clients and
 * message visibility. `updatemessagevisibility` is also served as `messagevisibility`, the
 * path Owncast really serves.
 */
import { reply, Type, writeJson } from '../../../src/index.js';
import { ChatEventTypes, Scopes } from '../constants.js';
import { BasicResponseSchema, ChatMessagesSchema, ClientSchema, ErrorSchema } from '../schemas.js';
import { badRequest, ok } from '../wire.js';
import { visibilityHandler, VisibilityBody } from './admin.js';
import type { RouteKit } from './kit.js';
import { CHAT_NOT_IMPLEMENTED } from './public.js';

/** Declares the integration routes. */
export function integrationRoutes(kit: RouteKit): void {
  const { owncast, ctx } = kit;
  const tags = ['Integrations'];
  const system = kit.integration(Scopes.CAN_SEND_SYSTEM_MESSAGES);
  const user = kit.integration(Scopes.CAN_SEND_MESSAGES);
  const admin = kit.integration(Scopes.HAS_ADMIN_ACCESS);
  const sent = { 200: BasicResponseSchema, 400: BasicResponseSchema };
  const text = (value: unknown, what: string): string => {
    if (typeof value !== 'string' || value.trim() === '') throw badRequest(`${what} is required`);
    if (value.length > ctx.config.chat.maxMessageLength) throw badRequest(`${what} is longer than ${ctx.config.chat.maxMessageLength} characters`);
    return value.trim();
  };
  // Owncast drops chat messages while chat is disabled and still answers "sent"; here the
  // integration is told (docs/compat/owncast.md).
  const chatOpen = (): void => {
    if (owncast.chat.disabled) throw badRequest('chat is disabled');
  };
  const name = (value: string): string => {
    const n = value.trim();
    if (n.length > ctx.config.chat.maxNameLength) throw badRequest(`the user name is longer than ${ctx.config.chat.maxNameLength} characters`);
    return n;
  };

  kit.post(
    {
      path: '/api/integrations/streamtitle',
      summary: 'Set the stream title.',
      tags,
      auth: admin,
      body: Type.Object({ value: Type.String() }),
      responses: sent,
      handler: async ({ body }) => {
        await owncast.setStreamTitle((body as { value: string }).value);
        return ok('changed');
      },
    },
    { basic: true },
  );

  kit.post(
    {
      path: '/api/integrations/chat/user',
      summary: 'Send a user chat message.',
      description: 'Sends a chat message as `user` (or `author`).',
      tags,
      auth: user,
      body: Type.Object({ user: Type.Optional(Type.String()), author: Type.Optional(Type.String()), body: Type.String() }),
      responses: sent,
      handler: async ({ body }) => {
        chatOpen();
        const b = body as { user?: string; author?: string; body: string };
        const author = name(b.user ?? b.author ?? '');
        if (author === '') throw badRequest('user is required');
        await owncast.chat.post({ type: ChatEventTypes.CHAT, author, body: text(b.body, 'body'), webhook: 'CHAT' });
        return ok('sent');
      },
    },
    { basic: true },
  );

  kit.post(
    {
      path: '/api/integrations/chat/system',
      summary: 'Send a system chat message.',
      tags,
      auth: system,
      body: Type.Object({ body: Type.String() }),
      responses: sent,
      handler: async ({ body }) => {
        chatOpen();
        const message = text((body as { body: string }).body, 'body');
        await owncast.chat.post({ type: ChatEventTypes.SYSTEM, author: owncast.settings.settings.name, body: message });
        return ok('sent');
      },
    },
    { basic: true },
  );

  kit.post(
    {
      path: '/api/integrations/chat/action',
      summary: 'Send a chat action.',
      description: 'The body becomes "<author> <body>" when an author is given.',
      tags,
      auth: system,
      body: Type.Object({ body: Type.String(), author: Type.Optional(Type.String()) }),
      responses: sent,
      handler: async ({ body }) => {
        chatOpen();
        const b = body as { body: string; author?: string };
        const action = text(b.body, 'body');
        const author = b.author === undefined ? '' : name(b.author);
        await owncast.chat.post({ type: ChatEventTypes.CHAT_ACTION, author: author || owncast.settings.settings.name, body: author ? `${author} ${action}` : action });
        return ok('sent');
      },
    },
    { basic: true },
  );

  kit.add({
    method: 'GET',
    path: '/api/integrations/clients',
    summary: 'Return a list of currently connected clients',
    tags,
    auth: admin,
    responses: { 200: Type.Array(ClientSchema) },
    handler: () => owncast.connections.clients(),
  });

  kit.add({
    method: 'GET',
    path: '/api/integrations/chat',
    summary: 'Historical Chat Messages',
    tags,
    auth: admin,
    responses: { 200: ChatMessagesSchema },
    handler: async ({ res }) => {
      writeJson(res, 200, (await owncast.chat.historyJson()).bytes);
      return undefined;
    },
  });
  kit.add({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    path: '/api/integrations/chat',
    hidden: true,
    auth: admin,
    responses: { 501: ErrorSchema },
    handler: () => reply(501, CHAT_NOT_IMPLEMENTED),
  });

  for (const path of ['/api/integrations/chat/updatemessagevisibility', '/api/integrations/chat/messagevisibility']) {
    kit.post(
      {
        path,
        summary: 'Update the visibility of chat messages.',
        tags,
        auth: admin,
        body: VisibilityBody,
        bodyLimit: '8mb',
        responses: { 200: BasicResponseSchema, 400: BasicResponseSchema },
        handler: visibilityHandler(kit) as never,
      },
      { basic: true },
    );
  }
}
