/**
 * TypeBox schemas of the talk routes: parameters with Talk's patterns, lenient request
 * parameters (OCS clients send numbers and booleans as strings or numbers, as JSON or form
 * fields, or in the query), and the documented response bodies inside the OCS envelope.
 */
import { Type, type TSchema } from '../../src/index.js';

/** `token`: `[a-z0-9]{4,30}`. */
export const TokenParam = Type.String({ pattern: '^[a-z0-9]{4,30}$', description: 'Conversation token' });
/** Numeric ids in paths (`\d+`). */
export const IdParam = Type.Integer({ minimum: 0, description: 'Numeric id' });

/** `{token}`. */
export const TokenParams = Type.Object({ token: TokenParam });
/** `{token}/{botId}`. */
export const TokenBotParams = Type.Object({ token: TokenParam, botId: IdParam });
/** `{token}/{messageId}`. */
export const TokenMessageParams = Type.Object({ token: TokenParam, messageId: IdParam });

/** `?format=json|xml` (every route takes it). */
export const FormatQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('xml')], { description: 'Response format (else the Accept header, else XML)' })) });

/** An integer sent as a number or a numeric string. */
export const LooseInt = Type.Union([Type.Integer(), Type.String({ pattern: '^-?\\d+$' })]);
/** A boolean sent as true/false, 0/1 or their strings. */
export const LooseBool = Type.Union([Type.Boolean(), Type.Integer({ minimum: 0, maximum: 1 }), Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('0'), Type.Literal('1'), Type.Literal('')])]);

/** Reads a loose integer (undefined when absent or empty). */
export function looseInt(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

/** Reads a loose boolean. */
export function looseBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

/** The OCS `meta`. */
export const OcsMetaSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('failure')]),
  statuscode: Type.Integer(),
  message: Type.String(),
});

/** Wraps a data schema in the OCS envelope. */
export function ocs(data: TSchema): TSchema {
  return Type.Object({ ocs: Type.Object({ meta: OcsMetaSchema, data }) });
}

/** A documented OCS response. */
export function ocsResponse(description: string, data: TSchema = Type.Array(Type.Never(), { maxItems: 0 })): { description: string; schema: TSchema } {
  return { description, schema: ocs(data) };
}

/** An OCS failure with `data: []`. */
export function ocsFailure(description: string): { description: string; schema: TSchema } {
  return ocsResponse(description);
}

/** `TalkBot`. */
export const TalkBotSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  state: Type.Integer({ description: '1 enabled in this conversation, 0 not, 2 no-setup bot set up here' }),
});

/** `TalkBotWithDetails`. */
export const TalkBotWithDetailsSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  url: Type.String(),
  url_hash: Type.String(),
  description: Type.String(),
  error_count: Type.Integer(),
  last_error_date: Type.Integer({ description: 'Unix seconds, 0 if never' }),
  last_error_message: Type.String(),
  state: Type.Integer({ description: '0 disabled, 1 enabled, 2 no-setup' }),
  features: Type.Integer({ description: 'Bit flags: 1 webhook, 2 response, 4 event, 8 reaction' }),
});

/** A chat message (`TalkChatMessage`). */
export const ChatMessageSchema = Type.Object(
  {
    id: Type.Integer(),
    token: Type.String(),
    actorType: Type.String(),
    actorId: Type.String(),
    actorDisplayName: Type.String(),
    timestamp: Type.Integer(),
    message: Type.String(),
    messageParameters: Type.Union([Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown())]),
    systemMessage: Type.String(),
    messageType: Type.String(),
    isReplyable: Type.Boolean(),
    referenceId: Type.String(),
    reactions: Type.Record(Type.String(), Type.Integer()),
    reactionsSelf: Type.Optional(Type.Array(Type.String())),
    expirationTimestamp: Type.Integer(),
    markdown: Type.Boolean(),
    silent: Type.Optional(Type.Boolean()),
    parent: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

/** A conversation (the subset of `TalkRoom` this plugin serves). */
export const RoomSchema = Type.Object(
  {
    id: Type.Integer(),
    token: Type.String(),
    type: Type.Integer({ description: '2 group, 3 public' }),
    name: Type.String(),
    displayName: Type.String(),
    description: Type.String(),
    actorType: Type.String(),
    actorId: Type.String(),
    attendeeId: Type.Integer(),
    participantType: Type.Integer({ description: '1 owner, 2 moderator, 3 user, 4 guest, 5 user via link, 6 guest moderator' }),
    lastActivity: Type.Integer(),
    lastMessage: Type.Optional(ChatMessageSchema),
  },
  { additionalProperties: true },
);

/** A participant (the subset of `TalkParticipant` this plugin serves). */
export const ParticipantSchema = Type.Object(
  {
    roomToken: Type.String(),
    attendeeId: Type.Integer(),
    actorType: Type.String(),
    actorId: Type.String(),
    displayName: Type.String(),
    participantType: Type.Integer(),
  },
  { additionalProperties: true },
);

/** `array<string, list<TalkReaction>>`. */
export const ReactionsSchema = Type.Record(
  Type.String(),
  Type.Array(Type.Object({ actorDisplayName: Type.String(), actorId: Type.String(), actorType: Type.String(), timestamp: Type.Integer() })),
);

/** The signature headers of bot requests. */
export const BotSignatureHeaders = Type.Object({
  'x-nextcloud-talk-bot-random': Type.Optional(Type.String({ description: 'Random value used when signing (at least 32 characters)' })),
  'x-nextcloud-talk-bot-signature': Type.Optional(Type.String({ description: 'hex HMAC-SHA256(random + message or reaction) keyed with the bot secret' })),
});
