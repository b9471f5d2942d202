/**
 * The wire contract of the talk plugin: Nextcloud Talk's OCS routes under
 * `/ocs/v2.php/apps/spreed/api/v1` (bots, chat, reactions) and `/api/v4` (conversations
 * and participants), relative to the plugin's mount.
 */
import type { Request } from 'express';
import { HttpError, HttpErrorCodes, Type, reply, type PluginContext, type Principal, type ResponseSpec } from '../../src/index.js';
import type { BotAdmin } from './bot-admin.js';
import type { BotReplies } from './bot-replies.js';
import type { TalkConfig } from './config.js';
import { ActorType, RoomType } from './constants.js';
import type { ConversationService, TalkActor } from './conversations.js';
import { formatBotWithDetails, formatParticipant, formatRoom } from './formats.js';
import { onValidationError, publicAuth, talkError, talkResponder, userAuth } from './ocs.js';
import {
  BotSignatureHeaders,
  ChatMessageSchema,
  FormatQuery,
  LooseBool,
  LooseInt,
  ParticipantSchema,
  ReactionsSchema,
  RoomSchema,
  TalkBotSchema,
  TalkBotWithDetailsSchema,
  TokenBotParams,
  TokenMessageParams,
  TokenParams,
  looseBool,
  looseInt,
  ocsFailure,
  ocsResponse,
} from './schemas.js';
import type { BotStore } from './stores/bots.js';

/** Where Talk's OCS API v1 lives. */
export const API_V1 = '/ocs/v2.php/apps/spreed/api/v1';
/** Where Talk's conversation API v4 lives. */
export const API_V4 = '/ocs/v2.php/apps/spreed/api/v4';

/** The services the routes use. */
export interface TalkServices {
  /** Conversations, participants, chat, reactions. */
  conversations: ConversationService;
  /** Bot administration and moderator enable/disable. */
  bots: BotAdmin;
  /** Bots' signed requests. */
  replies: BotReplies;
  /** The bot store (admin listing). */
  botStore: BotStore;
}

/** The caller as an actor of the conversation model. */
function userActor(principal: Principal | undefined): TalkActor & { displayName: string } {
  const id = principal?.id ?? '';
  return { type: ActorType.Users, id, displayName: principal?.displayName ?? id };
}

/** A request parameter from the body (JSON or form) or, as Nextcloud merges them, the query. */
function param(req: Request, body: unknown, name: string): unknown {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return b !== undefined ? b : (req.query as Record<string, unknown>)[name];
}

const T = '[a-z0-9]{4,30}';
/** The shapes of Talk's routes with their requirements (`token`, numeric ids), below `…/api`. */
const ROUTE_SHAPES = new RegExp(
  `^/(?:v1/bot/admin|v1/bot/${T}(?:/message|/\\d+|/reaction/\\d+)?|v1/chat/${T}|v1/reaction/${T}/\\d+|v4/room(?:/${T}(?:/participants|/moderators)?)?)/?$`,
);

/**
 * Nextcloud's router matches route requirements before anything else: a path whose token or
 * id does not fit is an unknown route (404), whatever the method or credentials.
 */
function routeShapeGuard(prefix: string): (req: Request) => void {
  const base = `${prefix}/ocs/v2.php/apps/spreed/api`.toLowerCase();
  return (req) => {
    const path = req.path;
    if (path.toLowerCase().startsWith(base) && !ROUTE_SHAPES.test(path.slice(base.length))) {
      throw new HttpError(404, 'Not Found', { code: HttpErrorCodes.NOT_FOUND });
    }
  };
}

/** Declares every route of the talk plugin. */
export function registerRoutes(ctx: PluginContext<TalkConfig>, s: TalkServices): void {
  const user = userAuth();
  const admin = userAuth({ admin: true });
  const bot = publicAuth();
  ctx.routes.defaults({ responder: talkResponder(), methodNotAllowed: true, onValidationError, auth: user });
  ctx.routes.notFoundUnder('/ocs/v2.php/apps/spreed/api');
  ctx.routes.onRequest(routeShapeGuard(ctx.routes.prefix));
  const tags = ['talk'];
  const loggedOut = ocsFailure('Not logged in (OCS statuscode 997)');
  const notFound = ocsFailure('The conversation does not exist or the caller is not in it');
  const notModerator = ocsFailure('The caller does not moderate the conversation');
  const csrf = { description: 'Missing `OCS-APIRequest: true`: `{"message":"CSRF check failed"}`', schema: Type.Object({ message: Type.String() }) };

  // ---- Bots: administration and moderators -------------------------------------------

  ctx.routes.add({
    method: 'GET',
    path: `${API_V1}/bot/admin`,
    summary: 'List every bot installed on the server (administrators)',
    tags,
    auth: admin,
    query: FormatQuery,
    responses: { 200: ocsResponse('The bots, without secrets', Type.Array(TalkBotWithDetailsSchema)), 401: loggedOut, 403: ocsFailure('Logged in account must be an admin'), 412: csrf },
    handler: async () => (await s.botStore.all()).map(formatBotWithDetails),
  });

  ctx.routes.add({
    method: 'GET',
    path: `${API_V1}/bot/:token`,
    summary: 'List the bots that are or can be enabled in a conversation (moderators)',
    tags,
    params: TokenParams,
    query: FormatQuery,
    responses: { 200: ocsResponse('The bots', Type.Array(TalkBotSchema)), 401: loggedOut, 403: notModerator, 404: notFound, 412: csrf },
    handler: ({ params, principal }) => s.bots.listTextForModerator(params.token, { type: ActorType.Users, id: principal?.id ?? '' }),
  });

  ctx.routes.add({
    method: 'POST',
    path: `${API_V1}/bot/:token/message`,
    summary: 'Post a chat message as a bot (signed with the bot secret)',
    description: 'Headers `X-Nextcloud-Talk-Bot-Random` and `X-Nextcloud-Talk-Bot-Signature` (hex HMAC-SHA256 of random + message). 401 when no bot enabled in the conversation with the response feature matches; repeated 401s give 429.',
    tags,
    auth: bot,
    params: TokenParams,
    query: FormatQuery,
    headers: BotSignatureHeaders,
    accepts: ['json', 'urlencoded'],
    body: Type.Object({ message: Type.Optional(Type.String()), referenceId: Type.Optional(Type.String()), replyTo: Type.Optional(LooseInt), silent: Type.Optional(LooseBool) }),
    responses: {
      201: ocsResponse('Posted', Type.Null()),
      400: ocsResponse('Blank message, bad signature headers, or an invalid replyTo', Type.Null()),
      401: ocsResponse('No enabled bot matches the signature', Type.Null()),
      412: csrf,
      413: ocsResponse('Message longer than 32000 characters', Type.Null()),
      429: ocsFailure('Too many bad signatures from this client for this conversation'),
    },
    handler: async ({ params, body, headers, req }) => {
      await s.replies.sendMessage(
        req,
        params.token,
        {
          message: String(param(req, body, 'message') ?? ''),
          replyTo: looseInt(param(req, body, 'replyTo')),
          referenceId: param(req, body, 'referenceId') === undefined ? undefined : String(param(req, body, 'referenceId')),
          silent: looseBool(param(req, body, 'silent')),
        },
        { random: headers['x-nextcloud-talk-bot-random'], signature: headers['x-nextcloud-talk-bot-signature'] },
      );
      return reply(201, null);
    },
  });

  for (const method of ['POST', 'DELETE'] as const) {
    ctx.routes.add({
      method,
      path: `${API_V1}/bot/:token/reaction/:messageId`,
      summary: method === 'POST' ? 'React to a message as a bot (signed)' : 'Remove a bot\'s reaction (signed)',
      description: 'Signed like bot messages, over random + reaction. Needs the response or reaction feature.',
      tags,
      auth: bot,
      params: TokenMessageParams,
      query: FormatQuery,
      headers: BotSignatureHeaders,
      accepts: ['json', 'urlencoded'],
      body: Type.Object({ reaction: Type.Optional(Type.String()) }),
      responses:
        method === 'POST'
          ? { 200: ocsResponse('Already reacted so', Type.Null()), 201: ocsResponse('Reacted', Type.Null()), 400: ocsResponse('Not one emoji, or bad signature headers', Type.Null()), 401: ocsResponse('No enabled bot matches the signature', Type.Null()), 404: ocsResponse('No such message', Type.Null()), 412: csrf, 429: ocsFailure('Too many bad signatures') }
          : { 200: ocsResponse('Removed', Type.Null()), 400: ocsResponse('Bad signature headers', Type.Null()), 401: ocsResponse('No enabled bot matches the signature', Type.Null()), 404: ocsResponse('No such message or reaction', Type.Null()), 412: csrf, 429: ocsFailure('Too many bad signatures') },
      handler: async ({ params, body, headers, req }) => {
        const status = await s.replies.react(req, params.token, params.messageId, String(param(req, body, 'reaction') ?? ''), method === 'POST', {
          random: headers['x-nextcloud-talk-bot-random'],
          signature: headers['x-nextcloud-talk-bot-signature'],
        });
        return reply(status, null);
      },
    });
  }

  ctx.routes.add({
    method: 'POST',
    path: `${API_V1}/bot/:token/:botId`,
    summary: 'Enable a bot in a conversation (moderators)',
    tags,
    params: TokenBotParams,
    query: FormatQuery,
    responses: {
      200: ocsResponse('Already enabled', TalkBotSchema),
      201: ocsResponse('Enabled now (the bot gets a Join)', TalkBotSchema),
      400: ocsResponse('Unknown bot, or its server state is not enabled: `{"error":"bot"}`', Type.Object({ error: Type.String() })),
      401: loggedOut,
      403: notModerator,
      404: notFound,
      412: csrf,
    },
    handler: async ({ params, principal, req }) => {
      const { room } = await s.conversations.moderatorAccess(params.token, userActor(principal));
      const { status, bot: b } = await s.bots.enable(room, params.botId, req);
      return reply(status, b);
    },
  });

  ctx.routes.add({
    method: 'DELETE',
    path: `${API_V1}/bot/:token/:botId`,
    summary: 'Disable a bot in a conversation (moderators)',
    tags,
    params: TokenBotParams,
    query: FormatQuery,
    responses: {
      200: ocsResponse('Disabled (the bot gets a Leave when it was enabled)', TalkBotSchema),
      400: ocsResponse('Unknown bot, or its server state is not enabled: `{"error":"bot"}`', Type.Object({ error: Type.String() })),
      401: loggedOut,
      403: notModerator,
      404: notFound,
      412: csrf,
    },
    handler: async ({ params, principal, req }) => {
      const { room } = await s.conversations.moderatorAccess(params.token, userActor(principal));
      return s.bots.disable(room, params.botId, req);
    },
  });

  // ---- Conversations and participants (v4) -------------------------------------------

  ctx.routes.add({
    method: 'POST',
    path: `${API_V4}/room`,
    summary: 'Create a group (2) or public (3) conversation; the caller owns it',
    tags,
    query: FormatQuery,
    accepts: ['json', 'urlencoded'],
    body: Type.Object({ roomType: Type.Optional(LooseInt), roomName: Type.Optional(Type.String()), invite: Type.Optional(Type.String()), source: Type.Optional(Type.String()), description: Type.Optional(Type.String()) }),
    responses: { 201: ocsResponse('Created', RoomSchema), 400: ocsResponse('`{"error":"type"}`, `{"error":"name"}` or `{"error":"invite"}`', Type.Object({ error: Type.String() })), 401: loggedOut, 412: csrf },
    handler: async ({ body, principal, req }) => {
      const me = userActor(principal);
      const invite = param(req, body, 'invite');
      if (invite !== undefined && invite !== '') throw talkError(400, { error: 'invite' });
      const type = looseInt(param(req, body, 'roomType')) ?? RoomType.Group;
      const { room, attendee } = await s.conversations.createRoom(me, {
        type,
        name: String(param(req, body, 'roomName') ?? ''),
        description: param(req, body, 'description') === undefined ? undefined : String(param(req, body, 'description')),
      });
      return reply(201, formatRoom(room, attendee));
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: `${API_V4}/room`,
    summary: 'List the caller\'s conversations',
    tags,
    query: FormatQuery,
    responses: { 200: ocsResponse('The conversations, most recently active first', Type.Array(RoomSchema)), 401: loggedOut, 412: csrf },
    handler: async ({ principal }) => {
      const me = userActor(principal);
      const list = await s.conversations.roomsOf(me);
      const byRoom = await s.conversations.lastMessages(list.map((e) => e.room), me);
      return list.map(({ room, attendee }) => formatRoom(room, attendee, byRoom.get(room.id)));
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: `${API_V4}/room/:token`,
    summary: 'Get one conversation',
    tags,
    params: TokenParams,
    query: FormatQuery,
    responses: { 200: ocsResponse('The conversation', RoomSchema), 401: loggedOut, 404: notFound, 412: csrf },
    handler: async ({ params, principal }) => {
      const me = userActor(principal);
      const { room, attendee } = await s.conversations.access(params.token, me);
      return formatRoom(room, attendee, (await s.conversations.lastMessages([room], me)).get(room.id));
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: `${API_V4}/room/:token/participants`,
    summary: 'List the participants of a conversation',
    tags,
    params: TokenParams,
    query: FormatQuery,
    responses: { 200: ocsResponse('The participants', Type.Array(ParticipantSchema)), 401: loggedOut, 404: notFound, 412: csrf },
    handler: async ({ params, principal }) => {
      const { room } = await s.conversations.access(params.token, userActor(principal));
      return (await s.conversations.participants(room)).map((a) => formatParticipant(room, a));
    },
  });

  ctx.routes.add({
    method: 'POST',
    path: `${API_V4}/room/:token/participants`,
    summary: 'Add a user to a conversation (moderators)',
    tags,
    params: TokenParams,
    query: FormatQuery,
    accepts: ['json', 'urlencoded'],
    body: Type.Object({ newParticipant: Type.Optional(Type.String()), source: Type.Optional(Type.String()) }),
    responses: { 200: ocsResponse('Added (or already a participant)'), 400: ocsResponse('Unsupported source or empty user id', Type.Object({ error: Type.String() })), 401: loggedOut, 403: notModerator, 404: notFound, 412: csrf },
    handler: async ({ params, body, principal, req }) => {
      const { room } = await s.conversations.moderatorAccess(params.token, userActor(principal));
      const source = String(param(req, body, 'source') ?? 'users') || 'users';
      if (source !== 'users') throw talkError(400, { error: 'source' });
      const id = String(param(req, body, 'newParticipant') ?? '').trim();
      if (id === '') throw talkError(400, { error: 'participant' });
      await s.conversations.addParticipant(room, { type: ActorType.Users, id });
      return [];
    },
  });

  for (const method of ['POST', 'DELETE'] as const) {
    ctx.routes.add({
      method,
      path: `${API_V4}/room/:token/moderators`,
      summary: method === 'POST' ? 'Promote a participant to moderator (moderators)' : 'Demote a moderator (moderators)',
      tags,
      params: TokenParams,
      query: Type.Object({ format: FormatQuery.properties.format, attendeeId: Type.Optional(LooseInt) }),
      accepts: ['json', 'urlencoded'],
      body: Type.Object({ attendeeId: Type.Optional(LooseInt) }),
      responses: { 200: ocsResponse('Done'), 400: ocsFailure('Already so, or not a promotable participant'), 401: loggedOut, 403: ocsFailure('Not a moderator, or the target is the caller or the owner'), 404: ocsFailure('No such conversation or attendee'), 412: csrf },
      handler: async ({ params, body, principal, req }) => {
        const { room, attendee } = await s.conversations.moderatorAccess(params.token, userActor(principal));
        const attendeeId = looseInt(param(req, body, 'attendeeId'));
        if (attendeeId === undefined) throw talkError(400);
        await s.conversations.changeModerator(room, attendee, attendeeId, method === 'POST');
        return [];
      },
    });
  }

  // ---- Chat ---------------------------------------------------------------------------

  ctx.routes.add({
    method: 'POST',
    path: `${API_V1}/chat/:token`,
    summary: 'Post a chat message; the conversation\'s bots receive it as a signed webhook',
    tags,
    params: TokenParams,
    query: FormatQuery,
    accepts: ['json', 'urlencoded'],
    body: Type.Object({ message: Type.Optional(Type.String()), actorDisplayName: Type.Optional(Type.String()), replyTo: Type.Optional(LooseInt), referenceId: Type.Optional(Type.String()), silent: Type.Optional(LooseBool) }),
    responses: {
      201: ocsResponse('Posted', ChatMessageSchema),
      400: ocsFailure('Blank message or invalid replyTo'),
      401: loggedOut,
      404: notFound,
      412: csrf,
      413: ocsResponse('Longer than 32000 characters', Type.Object({ error: Type.String() })),
    },
    handler: async ({ params, body, principal, req }) => {
      const me = userActor(principal);
      const { room, attendee } = await s.conversations.access(params.token, me);
      await s.conversations.rename(attendee, me.displayName);
      const referenceId = param(req, body, 'referenceId');
      const { message } = await s.conversations.post(
        room,
        { type: attendee.actorType, id: attendee.actorId, displayName: me.displayName },
        {
          message: String(param(req, body, 'message') ?? ''),
          replyTo: looseInt(param(req, body, 'replyTo')),
          referenceId: referenceId === undefined ? undefined : String(referenceId),
          silent: looseBool(param(req, body, 'silent')),
        },
        { req, participantType: attendee.participantType },
      );
      const [formatted] = await s.conversations.format(room, [message], me);
      return reply(201, formatted, { 'X-Chat-Last-Common-Read': String(message.id) });
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: `${API_V1}/chat/:token`,
    summary: 'Read the chat: history (lookIntoFuture=0, newest first) or wait for new messages (lookIntoFuture=1)',
    description: '304 without a body when there is nothing (new). `X-Chat-Last-Given` carries the id to pass as `lastKnownMessageId` next time.',
    tags,
    params: TokenParams,
    query: Type.Object({
      format: FormatQuery.properties.format,
      lookIntoFuture: Type.Integer({ minimum: 0, maximum: 1 }),
      limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Default 100, at most 200' })),
      lastKnownMessageId: Type.Optional(Type.Integer({ minimum: 0 })),
      timeout: Type.Optional(Type.Integer({ minimum: 0, description: 'Seconds to wait with lookIntoFuture=1 (default and cap 30)' })),
      includeLastKnown: Type.Optional(LooseBool),
      setReadMarker: Type.Optional(LooseBool),
      markNotificationsAsRead: Type.Optional(LooseBool),
      noStatusUpdate: Type.Optional(LooseBool),
      lastCommonReadId: Type.Optional(Type.Integer()),
    }),
    responses: { 200: ocsResponse('Messages', Type.Array(ChatMessageSchema)), 304: { description: 'Nothing (new)' }, 401: loggedOut, 404: notFound, 412: csrf },
    handler: async ({ params, query, principal, req, res }) => {
      const me = userActor(principal);
      const { room } = await s.conversations.access(params.token, me);
      const gone = new AbortController();
      const onClose = () => gone.abort();
      res.once('close', onClose);
      try {
        const rows = await s.conversations.read(room, {
          lookIntoFuture: query.lookIntoFuture === 1 ? 1 : 0,
          lastKnownMessageId: query.lastKnownMessageId,
          limit: query.limit,
          timeoutSeconds: query.timeout,
          includeLastKnown: looseBool(query.includeLastKnown),
          signal: gone.signal,
        });
        if (rows.length === 0) return reply(304);
        const lastGiven = rows[rows.length - 1].id;
        return reply(200, await s.conversations.format(room, rows, me), { 'X-Chat-Last-Given': String(lastGiven), 'X-Chat-Last-Common-Read': String(room.lastMessageId ?? lastGiven) });
      } finally {
        res.off('close', onClose);
      }
    },
  });

  // ---- Reactions by people (v1) --------------------------------------------------------

  for (const method of ['GET', 'POST', 'DELETE'] as const) {
    ctx.routes.add({
      method,
      path: `${API_V1}/reaction/:token/:messageId`,
      summary: method === 'GET' ? 'List the reactions to a message' : method === 'POST' ? 'React to a message' : 'Remove one\'s reaction',
      description: method === 'GET' ? undefined : 'Bots with the reaction feature receive a signed `Like` (or `Undo`).',
      tags,
      params: TokenMessageParams,
      query: Type.Object({ format: FormatQuery.properties.format, reaction: Type.Optional(Type.String()) }),
      ...(method === 'GET' ? {} : { accepts: ['json', 'urlencoded'] as const, body: Type.Object({ reaction: Type.Optional(Type.String()) }) }),
      responses: {
        200: ocsResponse(method === 'POST' ? 'Already reacted so; the reactions' : 'The reactions', ReactionsSchema),
        ...(method === 'POST' ? { 201: ocsResponse('Reacted; the reactions', ReactionsSchema) } : {}),
        400: ocsFailure('Not one emoji'),
        401: loggedOut,
        404: ocsFailure('No such conversation, message or reaction'),
        412: csrf,
      } as Record<number, ResponseSpec>,
      handler: async ({ params, body, principal, req }) => {
        const me = userActor(principal);
        const { room } = await s.conversations.access(params.token, me);
        const reaction = param(req, body, 'reaction');
        if (method === 'GET') {
          if (!(await s.conversations.message(room, params.messageId))) throw talkError(404);
          return s.conversations.reactionsOf(params.messageId, reaction === undefined || reaction === '' ? undefined : String(reaction));
        }
        const changed = await s.conversations.react(room, { type: ActorType.Users, id: me.id, displayName: me.displayName }, params.messageId, String(reaction ?? ''), method === 'POST', { req });
        return reply(method === 'POST' && changed ? 201 : 200, await s.conversations.reactionsOf(params.messageId));
      },
    });
  }
}
