/**
 * The wire shapes of redball's API v1 as TypeBox schemas: what the OpenAPI document shows
 * for parameters and answers.
 */
import { Type, type TSchema } from '../../src/index.js';
import { SETTING_TYPES } from './settings.js';

/** redball's envelope around an answer. */
export function envelope(response: TSchema, description: string) {
  return {
    description,
    schema: Type.Object({
      meta: Type.Object({ api_version: Type.Literal(1), timestamp: Type.Number({ description: 'Seconds since the epoch, with a fraction' }) }),
      errors: Type.Union([Type.Literal(''), Type.Array(Type.String())], { description: '"" or the errors; the first is the status line, e.g. "400 Bad Request"' }),
      response: Type.Union([response, Type.Literal('')]),
    }),
  };
}

/** An answer with no data (`response: ""`). */
export const Empty = Type.Literal('');

/** Error answers every authenticated route can give. */
export function errorResponses(...statuses: number[]) {
  const text: Record<number, string> = {
    400: 'Bad Request: missing or wrong parameters (named in errors), duplicate names, nothing to update',
    401: 'Unauthorized: missing or unknown apikey',
    404: 'Not Found: no record with that id',
  };
  return Object.fromEntries(statuses.map((s) => [s, envelope(Empty, text[s] ?? 'Error')]));
}

/** A bot's detailedState. */
export const DetailedStateSchema = Type.Object(
  { summary: Type.Optional(Type.Object({ text: Type.Optional(Type.String()), html: Type.Optional(Type.String()), markdown: Type.Optional(Type.String()) })) },
  { additionalProperties: true, description: 'What the bot last published; `error` is added when it stopped with an error' },
);

/** A bot in a listing. */
export const BotItem = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  botType: Type.Integer({ description: 'The bot type id' }),
  redditAuth: Type.Union([Type.Integer(), Type.Null()], { description: 'The reddit authorization id, or null' }),
  autoRun: Type.Union([Type.Literal('True'), Type.Literal('False')]),
  status: Type.Union([Type.Literal('Running'), Type.Literal('Stopped')]),
  detailedState: DetailedStateSchema,
});

/** One setting. */
export const SettingItem = Type.Object({
  id: Type.Integer(),
  botId: Type.Integer(),
  key: Type.String(),
  description: Type.String(),
  type: Type.Union(SETTING_TYPES.map((t) => Type.Literal(t))),
  val: Type.Unknown({ description: 'Typed by `type`: text, integer, boolean or list' }),
  options: Type.Array(Type.Unknown()),
  subkeys: Type.Array(Type.String()),
  parent_key: Type.String(),
});

/** Settings by category. */
export const SettingsByCategorySchema = Type.Record(Type.String(), Type.Array(SettingItem), { description: 'Settings by category' });

/** A bot with its settings. */
export const BotWithConfig = Type.Object({ ...BotItem.properties, config: SettingsByCategorySchema });

/** A bot type. */
export const BotTypeItem = Type.Object({ id: Type.Integer(), name: Type.String(), description: Type.String(), moduleName: Type.String() });

/** A reddit authorization. */
export const RedditAuthItem = Type.Object({
  id: Type.Integer(),
  description: Type.String(),
  reddit_appId: Type.String(),
  reddit_appSecret: Type.String(),
  reddit_scopes: Type.String({ description: 'JSON text of the list of scopes, e.g. ["identity", "read"]' }),
  reddit_refreshToken: Type.Union([Type.String(), Type.Null()]),
  reddit_uniqueCode: Type.String(),
});

/** `{"id": "<id>", "<field>": value}`: one field of a record. */
export const FieldItem = Type.Object({ id: Type.String() }, { additionalProperties: true, description: 'The id (as given) and the requested field' });

/** A new record's id. */
export const NewId = Type.Object({ id: Type.Integer() });

/** A start/stop result. */
export const Result = Type.Object({ result: Type.Boolean() });

const text = (description: string) => Type.Optional(Type.String({ description }));
const idOrText = (description: string) => Type.Optional(Type.Union([Type.Integer(), Type.String()], { description }));
const boolOrText = (description: string) => Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description }));

/** Parameters of a bot (query string, form body or JSON body). */
export const BotParams = {
  query: Type.Object({
    name: text('The bot name (unique)'),
    botType: text('The bot type id'),
    autoRun: text('True or False: start the bot with the server'),
    redditAuth: text('The reddit authorization id ("" or 0 for none)'),
  }),
  body: Type.Object({
    name: text('The bot name (unique)'),
    botType: idOrText('The bot type id'),
    autoRun: boolOrText('True or False: start the bot with the server'),
    redditAuth: idOrText('The reddit authorization id ("" or 0 for none)'),
  }),
};

/** Parameters of a bot type. */
export const BotTypeParams = {
  query: Type.Object({ description: text('What the type is; its name is derived from it'), moduleName: text('The module in the bots directory (or a built-in: heartbeat)') }),
};

const redditAuthFields = {
  description: text('Its name, e.g. "BotUserName AllScopes"'),
  reddit_appId: text('The reddit app id'),
  reddit_appSecret: text('The reddit app secret'),
  reddit_scopes: text("The scopes: ['scope1','scope2'] (a JSON array works too)"),
  reddit_refreshToken: text('The refresh token ("" to clear it on update)'),
};

/** Parameters of a reddit authorization. */
export const RedditAuthParams = {
  query: Type.Object(redditAuthFields),
  body: Type.Object({
    ...redditAuthFields,
    reddit_scopes: Type.Optional(Type.Union([Type.Array(Type.String()), Type.String()], { description: "The scopes: ['scope1','scope2'], or a JSON array" })),
  }),
};

const listOrText = (description: string) => Type.Optional(Type.Union([Type.Array(Type.Unknown()), Type.String()], { description }));

/** The fields of one setting (query string or form body). */
export const SettingFields = Type.Object({
  category: text('The category'),
  key: Type.Optional(Type.String({ description: 'The key (unique within the bot and category)' })),
  val: Type.Optional(Type.Unknown({ description: 'The value, typed by type' })),
  description: text('Shown on the settings page'),
  type: text('str, int, bool or list (default str)'),
  options: listOrText('Allowed values'),
  subkeys: listOrText('Keys of subkeys in the same category'),
  parent_key: text('The parent key, on subkeys'),
});

/** A settings document: `{"<Category>": [{key, val, …}]}`. */
export const SettingsDocument = Type.Record(
  Type.String(),
  Type.Array(
    Type.Object(
      {
        key: Type.String(),
        val: Type.Unknown(),
        description: Type.Optional(Type.String()),
        type: Type.Optional(Type.String()),
        options: Type.Optional(Type.Array(Type.Unknown())),
        subkeys: Type.Optional(Type.Array(Type.String())),
        parent_key: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
  ),
  { description: 'Settings by category, as GET …/config answers (id and botId are ignored)' },
);
