/**
 * redball's API v1, the wire contract: `/api/v1/bots`, `/api/v1/bottypes` and
 * `/api/v1/redditauths` (paths match in any case, so `redditAuths` works too).
 *
 * Every answer is redball's envelope — `{"meta": {...}, "errors": "" | [...], "response": ...}`
 * — errors included. Every request needs a known `apikey` (query string, or a form/JSON
 * body field). Parameters come from the query string or the body; success is always 200.
 */
import type { Request } from 'express';
import { apiKeyQuery, HttpError, RedballAnswer, Type, type PluginContext, type RouteContext } from '../../src/index.js';
import { badRequest, notFound, redballError, redballStyle, validationFailure } from './envelope.js';
import { InvalidInput, NotFound } from './errors.js';
import { mergedParams, ParamReader, pathId } from './params.js';
import { moduleNameProblem } from './runner/module-resolver.js';
import type { BotRunner } from './runner/bot-runner.js';
import {
  BotItem,
  BotParams,
  BotTypeItem,
  BotTypeParams,
  BotWithConfig,
  Empty,
  envelope,
  errorResponses,
  FieldItem,
  NewId,
  RedditAuthItem,
  RedditAuthParams,
  Result,
  SettingFields,
  SettingsByCategorySchema,
  SettingsDocument,
} from './schemas.js';
import { checkSetting, checkSettingsDocument, type SettingInput } from './settings.js';
import type { ApiKeyStore } from './stores/api-key-store.js';
import type { BotConfigStore, WriteMode } from './stores/bot-config-store.js';
import type { BotStore, BotView } from './stores/bot-store.js';
import type { BotTypeStore } from './stores/bot-type-store.js';
import { parseScopes, type RedditAuthInput, type RedditAuthStore } from './stores/reddit-auth-store.js';

/** The API's base path, relative to the plugin's mount. */
export const API_BASE = '/api/v1';

/** What the routes use. */
export interface RedballServices {
  /** Bots. */
  bots: BotStore;
  /** Bot types. */
  types: BotTypeStore;
  /** Settings. */
  config: BotConfigStore;
  /** Reddit authorizations. */
  auths: RedditAuthStore;
  /** API keys. */
  keys: ApiKeyStore;
  /** The bot runner. */
  runner: BotRunner;
}

const BOT_FIELDS = ['id', 'name', 'botType', 'redditAuth', 'autoRun', 'status', 'detailedState'] as const;
const BOT_TYPE_FIELDS = ['id', 'name', 'description', 'moduleName'] as const;
const REDDIT_AUTH_FIELDS = ['id', 'description', 'reddit_appId', 'reddit_appSecret', 'reddit_scopes', 'reddit_refreshToken', 'reddit_uniqueCode'] as const;
const SETTING_FIELDS = ['category', 'key', 'val', 'description', 'type', 'options', 'subkeys', 'parent_key'] as const;

const MAX_NAME = 200;
const NOT_A_DOCUMENT = 'The settings document must be a JSON object of categories, each a list of settings: {"<Category>": [{"key": …, "val": …}]}.';
const MAX_DESCRIPTION = 500;
const MAX_SECRET = 2000;

type Handler<P> = (ctx: RouteContext<P, Record<string, unknown>, unknown>) => Promise<unknown>;

/** Runs a handler, turning domain errors into redball's 400 and 404. */
function guarded<P>(fn: Handler<P>): Handler<P> {
  return async (ctx) => {
    try {
      return await fn(ctx);
    } catch (err) {
      if (err instanceof InvalidInput) throw badRequest(err.message);
      if (err instanceof NotFound) throw notFound(err.message);
      throw err;
    }
  };
}

/** The canonical spelling of a field name given in any case, or undefined. */
function fieldName(fields: readonly string[], given: string): string | undefined {
  const lower = given.toLowerCase();
  return fields.find((f) => f.toLowerCase() === lower);
}

function unknownField(resource: string, given: string, fields: readonly string[]): HttpError {
  return badRequest(`Unknown field '${given}' of ${resource}; fields are ${fields.join(', ')}.`);
}

/** Declares every route of the API. */
export function registerRoutes(ctx: PluginContext, services: RedballServices): void {
  const { bots, types, config, auths, keys, runner } = services;
  const routes = ctx.routes;
  routes.defaults({
    responder: redballStyle(),
    methodNotAllowed: true,
    onValidationError: (issues) => validationFailure(issues),
    auth: apiKeyQuery({ fromBody: true, verify: (key) => keys.verify(key), fail: () => redballError(401) }),
  });

  const BotId = Type.Object({ botId: Type.String({ description: 'The bot id' }) });
  const BotField = Type.Object({ botId: Type.String({ description: 'The bot id' }), field: Type.String({ description: `One of ${BOT_FIELDS.join(', ')}` }) });
  const BotSetting = Type.Object({ botId: Type.String({ description: 'The bot id' }), settingId: Type.String({ description: 'The setting (botConfig) id' }) });
  const TypeId = Type.Object({ typeId: Type.String({ description: 'The bot type id' }) });
  const TypeField = Type.Object({ typeId: Type.String({ description: 'The bot type id' }), field: Type.String({ description: `One of ${BOT_TYPE_FIELDS.join(', ')}` }) });
  const AuthId = Type.Object({ authId: Type.String({ description: 'The reddit authorization id' }) });
  const AuthField = Type.Object({ authId: Type.String({ description: 'The reddit authorization id' }), field: Type.String({ description: `One of ${REDDIT_AUTH_FIELDS.join(', ')}` }) });
  const accepts = ['urlencoded', 'json'] as const;
  const tags = ['redball'];

  /** The bot of a path, or 404. */
  const existingBot = async (raw: string): Promise<number> => {
    const id = pathId(raw);
    if (id === undefined || !(await bots.exists(id))) throw notFound(`Bot ${raw} was not found.`);
    return id;
  };
  const botView = async (raw: string): Promise<BotView> => {
    const id = pathId(raw);
    const bot = id === undefined ? undefined : await bots.get(id);
    if (!bot) throw notFound(`Bot ${raw} was not found.`);
    return bot;
  };
  /** Checks that the ids a bot refers to exist. */
  const checkReferences = async (botType: number | undefined, redditAuth: number | null | undefined): Promise<void> => {
    const problems: string[] = [];
    if (botType !== undefined && !(await types.get(botType))) problems.push(`botType ${botType} is not the id of an existing bot type.`);
    if (redditAuth !== undefined && redditAuth !== null && !(await auths.exists(redditAuth))) problems.push(`redditAuth ${redditAuth} is not the id of an existing reddit authorization.`);
    if (problems.length > 0) throw badRequest(...problems);
  };
  const readRedditAuthRef = (r: ParamReader): number | null | undefined => {
    if (!r.has('redditAuth')) return undefined;
    const raw = r.params.redditAuth;
    // "" or 0 (redball's "None" authorization has id 0) mean: no authorization.
    if ((typeof raw === 'string' && /^\s*0*\s*$/.test(raw)) || raw === 0 || raw === null) return null;
    return r.id('redditAuth');
  };

  // ---------------------------------------------------------------- bots
  routes.add({
    method: 'GET',
    path: `${API_BASE}/bots`,
    summary: 'List bots with their status and detailedState',
    tags,
    responses: { 200: envelope(Type.Object({ bots: Type.Array(BotItem) }), 'The bots, by id'), ...errorResponses(401) },
    handler: () => bots.listBody(),
  });

  routes.add({
    method: 'POST',
    path: `${API_BASE}/bots`,
    summary: 'Create a bot',
    tags,
    accepts,
    query: BotParams.query,
    body: BotParams.body,
    responses: { 200: envelope(Type.Object({ bots: Type.Array(NewId) }), 'The new bot id'), ...errorResponses(400, 401) },
    handler: guarded(async ({ query, body }) => {
      const r = new ParamReader(mergedParams(query, body));
      r.requireAll(['name', 'botType', 'autoRun']);
      const name = r.text('name', MAX_NAME);
      const botType = r.id('botType');
      const autoRun = r.boolean('autoRun');
      const redditAuth = readRedditAuthRef(r);
      r.done();
      await checkReferences(botType, redditAuth);
      const id = await bots.create({ name: name!, botType: botType!, autoRun: autoRun!, redditAuth: redditAuth ?? null });
      return { bots: [{ id }] };
    }),
  });

  routes.add({
    method: 'GET',
    path: `${API_BASE}/bots/:botId`,
    summary: 'A bot with its settings',
    tags,
    params: BotId,
    responses: { 200: envelope(Type.Object({ bots: Type.Array(BotWithConfig) }), 'The bot'), ...errorResponses(401, 404) },
    handler: async ({ params }) => {
      const bot = await botView(params.botId);
      return { bots: [{ ...bot, config: await config.grouped(bot.id) }] };
    },
  });

  routes.add({
    method: 'PUT',
    path: `${API_BASE}/bots/:botId`,
    summary: 'Update a bot (any of name, botType, autoRun, redditAuth)',
    tags,
    params: BotId,
    accepts,
    query: BotParams.query,
    body: BotParams.body,
    responses: { 200: envelope(Empty, 'Updated'), ...errorResponses(400, 401, 404) },
    handler: guarded(async ({ params, query, body }) => {
      const id = await existingBot(params.botId);
      const r = new ParamReader(mergedParams(query, body));
      if (!['name', 'botType', 'autoRun', 'redditAuth'].some((n) => r.has(n))) {
        throw badRequest('Nothing provided to update; give any of name, botType, autoRun, redditAuth.');
      }
      const name = r.text('name', MAX_NAME);
      const botType = r.id('botType');
      const autoRun = r.boolean('autoRun');
      const redditAuth = readRedditAuthRef(r);
      r.done();
      await checkReferences(botType, redditAuth);
      if (!(await bots.update(id, { name, botType, autoRun, redditAuth }))) throw notFound(`Bot ${id} was not found.`);
      return '';
    }),
  });

  routes.add({
    method: 'DELETE',
    path: `${API_BASE}/bots/:botId`,
    summary: 'Delete a bot and its settings (a running bot is stopped first)',
    tags,
    params: BotId,
    accepts,
    responses: { 200: envelope(Empty, 'Deleted'), ...errorResponses(401, 404) },
    handler: guarded(async ({ params }) => {
      const id = await existingBot(params.botId);
      const deleted = await runner.stopThen(id, () => bots.delete(id));
      if (!deleted) throw notFound(`Bot ${id} was not found.`);
      return '';
    }),
  });

  // ------------------------------------------------------ bot settings
  routes.add({
    method: 'GET',
    path: `${API_BASE}/bots/:botId/config`,
    summary: "A bot's settings by category (the shape POST and PUT take)",
    tags,
    params: BotId,
    responses: { 200: envelope(Type.Object({ bots: Type.Array(Type.Object({ id: Type.String(), config: SettingsByCategorySchema })) }), 'The settings'), ...errorResponses(401, 404) },
    handler: async ({ params }) => {
      const id = await existingBot(params.botId);
      return { bots: [{ id: String(id), config: await config.grouped(id) }] };
    },
  });

  /** The settings a POST or PUT to `…/config` carries: a JSON document, or one setting's fields. */
  const settingsOf = (req: Request, query: unknown, body: unknown): SettingInput[] => {
    const isJson = /json/i.test(req.headers['content-type'] ?? '');
    if (isJson && body && typeof body === 'object' && !Array.isArray(body)) {
      const doc = body as Record<string, unknown>;
      const looksSingle = typeof doc.key === 'string' && !Object.values(doc).some(Array.isArray);
      if (!looksSingle) {
        const checked = checkSettingsDocument(doc);
        if (!checked.ok) throw badRequest(...checked.problems);
        return checked.value;
      }
    } else if (isJson) {
      throw badRequest(NOT_A_DOCUMENT);
    }
    const r = new ParamReader(mergedParams(query, body));
    if (!SETTING_FIELDS.some((f) => r.has(f))) {
      throw badRequest('No settings given: send a JSON settings document as the body, or the category, key and val of one setting as parameters.');
    }
    r.requireAll(['category', 'key', 'val'], ['val']);
    r.done();
    const checked = checkSetting(r.params, `Setting '${String(r.params.category)}/${String(r.params.key)}'`);
    if (!checked.ok) throw badRequest(...checked.problems);
    return [checked.value];
  };

  for (const [method, mode, summary] of [
    ['POST', 'preserve', 'Add settings; existing ones keep their values'],
    ['PUT', 'replace', 'Add or replace settings'],
  ] as const) {
    routes.add({
      method,
      path: `${API_BASE}/bots/:botId/config`,
      summary,
      description:
        'Either a JSON settings document `{"<Category>": [{"key": …, "val": …, "description": …, "type": …, "options": […], "subkeys": […], "parent_key": …}]}` ' +
        '(written in one transaction), or one setting as parameters (`category`, `key`, `val` and the optional fields). Settings not mentioned are kept.',
      tags,
      params: BotId,
      accepts,
      query: SettingFields,
      body: Type.Union([SettingsDocument, SettingFields]),
      onValidationError: (issues) => (issues.some((i) => i.location === 'body' && i.path === '') ? badRequest(NOT_A_DOCUMENT) : validationFailure(issues)),
      responses: { 200: envelope(Empty, 'Written'), ...errorResponses(400, 401, 404) },
      handler: guarded(async ({ params, query, body, req }) => {
        const id = await existingBot(params.botId);
        await config.write(id, settingsOf(req, query, body), mode as WriteMode);
        return '';
      }),
    });
  }

  routes.add({
    method: 'DELETE',
    path: `${API_BASE}/bots/:botId/config`,
    summary: "Delete all of a bot's settings except its system settings",
    tags,
    params: BotId,
    accepts,
    responses: { 200: envelope(Empty, 'Deleted'), ...errorResponses(401, 404) },
    handler: async ({ params }) => {
      const id = await existingBot(params.botId);
      await config.deleteAll(id);
      return '';
    },
  });

  routes.add({
    method: 'GET',
    path: `${API_BASE}/bots/:botId/config/:settingId`,
    summary: 'One setting',
    tags,
    params: BotSetting,
    responses: { 200: envelope(Type.Object({ bots: Type.Array(Type.Object({ id: Type.String(), config: SettingsByCategorySchema })) }), 'The setting, under its category'), ...errorResponses(401, 404) },
    handler: async ({ params }) => {
      const id = await existingBot(params.botId);
      const settingId = pathId(params.settingId);
      const grouped = settingId === undefined ? {} : await config.grouped(id, settingId);
      if (Object.keys(grouped).length === 0) throw notFound(`Setting ${params.settingId} of bot ${id} was not found.`);
      return { bots: [{ id: String(id), config: grouped }] };
    },
  });

  routes.add({
    method: 'PUT',
    path: `${API_BASE}/bots/:botId/config/:settingId`,
    summary: 'Update one setting (any of its fields)',
    tags,
    params: BotSetting,
    accepts,
    query: SettingFields,
    body: SettingFields,
    responses: { 200: envelope(Empty, 'Updated'), ...errorResponses(400, 401, 404) },
    handler: guarded(async ({ params, query, body }) => {
      const id = await existingBot(params.botId);
      const settingId = pathId(params.settingId);
      const given = mergedParams(query, body);
      const fields = Object.fromEntries(Object.entries(given).filter(([k]) => (SETTING_FIELDS as readonly string[]).includes(k)));
      if (Object.keys(fields).length === 0) throw badRequest(`Nothing provided to update; give any of ${SETTING_FIELDS.join(', ')}.`);
      if (settingId === undefined || !(await config.update(id, settingId, fields))) throw notFound(`Setting ${params.settingId} of bot ${id} was not found.`);
      return '';
    }),
  });

  routes.add({
    method: 'DELETE',
    path: `${API_BASE}/bots/:botId/config/:settingId`,
    summary: 'Delete one setting (not a system setting)',
    tags,
    params: BotSetting,
    accepts,
    responses: { 200: envelope(Empty, 'Deleted'), ...errorResponses(400, 401, 404) },
    handler: guarded(async ({ params }) => {
      const id = await existingBot(params.botId);
      const settingId = pathId(params.settingId);
      if (settingId === undefined || !(await config.deleteOne(id, settingId))) throw notFound(`Setting ${params.settingId} of bot ${id} was not found.`);
      return '';
    }),
  });

  // ------------------------------------------------------ start / stop
  routes.add({
    method: 'PUT',
    path: `${API_BASE}/bots/:botId/start`,
    summary: 'Start a bot (a running bot is fine)',
    description: 'Answers once the bot runs: `{"result": true}`; when it cannot start, 200 with `errors` saying why and `{"result": false}`.',
    tags,
    params: BotId,
    accepts,
    responses: { 200: envelope(Result, 'Started, or why not'), ...errorResponses(401, 404) },
    handler: guarded(async ({ params }) => {
      const id = pathId(params.botId);
      if (id === undefined) throw notFound(`Bot ${params.botId} was not found.`);
      const result = await runner.start(id);
      return result.ok ? { result: true } : new RedballAnswer({ result: false }, [result.error]);
    }),
  });

  routes.add({
    method: 'PUT',
    path: `${API_BASE}/bots/:botId/stop`,
    summary: 'Stop a bot',
    description: 'Answers once the bot has stopped: `{"result": true}`; a bot that is not running gives `errors: ["Bot <id> is not running."]` and `{"result": false}`.',
    tags,
    params: BotId,
    accepts,
    responses: { 200: envelope(Result, 'Stopped, or not running'), ...errorResponses(401, 404) },
    handler: async ({ params }) => {
      const id = await existingBot(params.botId);
      const stopped = await runner.stop(id);
      return stopped ? { result: true } : new RedballAnswer({ result: false }, [`Bot ${id} is not running.`]);
    },
  });

  routes.add({
    method: 'GET',
    path: `${API_BASE}/bots/:botId/:field`,
    summary: 'One field of a bot',
    tags,
    params: BotField,
    responses: { 200: envelope(Type.Object({ bots: Type.Array(FieldItem) }), 'The id and the field'), ...errorResponses(400, 401, 404) },
    handler: async ({ params }) => {
      const bot = await botView(params.botId);
      const field = fieldName(BOT_FIELDS, params.field);
      if (!field) throw unknownField('bots', params.field, [...BOT_FIELDS, 'config']);
      return { bots: [{ id: String(bot.id), [field]: bot[field as keyof BotView] }] };
    },
  });

  // ----------------------------------------------------------- bot types
  const existingType = async (raw: string) => {
    const id = pathId(raw);
    const type = id === undefined ? undefined : await types.get(id);
    if (!type) throw notFound(`Bot type ${raw} was not found.`);
    return type;
  };
  const readModuleName = (r: ParamReader): string | undefined => {
    const name = r.text('moduleName', MAX_NAME);
    if (name === undefined) return undefined;
    const problem = moduleNameProblem(name);
    if (problem) r.problems.push(`${problem}.`);
    return name;
  };

  routes.add({
    method: 'GET',
    path: `${API_BASE}/bottypes`,
    summary: 'List bot types',
    tags,
    responses: { 200: envelope(Type.Object({ botTypes: Type.Array(BotTypeItem) }), 'The bot types, by id'), ...errorResponses(401) },
    handler: async () => ({ botTypes: await types.list() }),
  });

  routes.add({
    method: 'POST',
    path: `${API_BASE}/bottypes`,
    summary: 'Create a bot type',
    tags,
    accepts,
    query: BotTypeParams.query,
    body: BotTypeParams.query,
    responses: { 200: envelope(Type.Object({ botTypes: Type.Array(NewId) }), 'The new bot type id'), ...errorResponses(400, 401) },
    handler: guarded(async ({ query, body }) => {
      const r = new ParamReader(mergedParams(query, body));
      r.requireAll(['description', 'moduleName']);
      const description = r.text('description', MAX_DESCRIPTION);
      const moduleName = readModuleName(r);
      r.done();
      const id = await types.create({ description: description!, moduleName: moduleName! });
      return { botTypes: [{ id }] };
    }),
  });

  routes.add({
    method: 'GET',
    path: `${API_BASE}/bottypes/:typeId`,
    summary: 'A bot type',
    tags,
    params: TypeId,
    responses: { 200: envelope(Type.Object({ botTypes: Type.Array(BotTypeItem) }), 'The bot type'), ...errorResponses(401, 404) },
    handler: async ({ params }) => ({ botTypes: [await existingType(params.typeId)] }),
  });

  routes.add({
    method: 'PUT',
    path: `${API_BASE}/bottypes/:typeId`,
    summary: 'Update a bot type (description and/or moduleName)',
    tags,
    params: TypeId,
    accepts,
    query: BotTypeParams.query,
    body: BotTypeParams.query,
    responses: { 200: envelope(Empty, 'Updated'), ...errorResponses(400, 401, 404) },
    handler: guarded(async ({ params, query, body }) => {
      const type = await existingType(params.typeId);
      const r = new ParamReader(mergedParams(query, body));
      if (!r.has('description') && !r.has('moduleName')) throw badRequest('Nothing provided to update; give description and/or moduleName.');
      const description = r.text('description', MAX_DESCRIPTION);
      const moduleName = readModuleName(r);
      r.done();
      if (!(await types.update(type.id, { description, moduleName }))) throw notFound(`Bot type ${type.id} was not found.`);
      return '';
    }),
  });

  routes.add({
    method: 'DELETE',
    path: `${API_BASE}/bottypes/:typeId`,
    summary: 'Delete a bot type that no bot uses',
    tags,
    params: TypeId,
    accepts,
    responses: { 200: envelope(Empty, 'Deleted'), ...errorResponses(400, 401, 404) },
    handler: guarded(async ({ params }) => {
      const type = await existingType(params.typeId);
      if (!(await types.delete(type.id))) throw notFound(`Bot type ${type.id} was not found.`);
      return '';
    }),
  });

  routes.add({
    method: 'GET',
    path: `${API_BASE}/bottypes/:typeId/:field`,
    summary: 'One field of a bot type',
    tags,
    params: TypeField,
    responses: { 200: envelope(Type.Object({ botTypes: Type.Array(FieldItem) }), 'The id and the field'), ...errorResponses(400, 401, 404) },
    handler: async ({ params }) => {
      const type = await existingType(params.typeId);
      const field = fieldName(BOT_TYPE_FIELDS, params.field);
      if (!field) throw unknownField('bottypes', params.field, BOT_TYPE_FIELDS);
      return { botTypes: [{ id: String(type.id), [field]: type[field as keyof typeof type] }] };
    },
  });

  // ------------------------------------------------ reddit authorizations
  const existingAuth = async (raw: string) => {
    const id = pathId(raw);
    const auth = id === undefined ? undefined : await auths.get(id);
    if (!auth) throw notFound(`Reddit authorization ${raw} was not found.`);
    return auth;
  };
  const readAuth = (r: ParamReader): Partial<RedditAuthInput> => {
    const out: Partial<RedditAuthInput> = {
      description: r.text('description', MAX_DESCRIPTION),
      appId: r.text('reddit_appId', MAX_NAME),
      appSecret: r.text('reddit_appSecret', MAX_SECRET, { trim: false }),
    };
    if (r.has('reddit_scopes')) {
      const scopes = parseScopes(r.params.reddit_scopes);
      if (scopes) out.scopes = scopes;
      else r.problems.push("Parameter 'reddit_scopes' must be a list of scopes such as ['identity','read'].");
    }
    if (r.has('reddit_refreshToken')) {
      const token = r.text('reddit_refreshToken', MAX_SECRET, { trim: false, allowEmpty: true });
      if (token !== undefined) out.refreshToken = token === '' ? null : token;
    }
    return out;
  };

  routes.add({
    method: 'GET',
    path: `${API_BASE}/redditauths`,
    summary: 'List reddit authorizations (with their secrets, as redball does)',
    tags,
    responses: { 200: envelope(Type.Object({ redditAuths: Type.Array(RedditAuthItem) }), 'The authorizations, by id'), ...errorResponses(401) },
    handler: async () => ({ redditAuths: await auths.list() }),
  });

  routes.add({
    method: 'POST',
    path: `${API_BASE}/redditauths`,
    summary: 'Create a reddit authorization',
    tags,
    accepts,
    query: RedditAuthParams.query,
    body: RedditAuthParams.body,
    responses: { 200: envelope(Type.Object({ redditAuths: Type.Array(NewId) }), 'The new authorization id'), ...errorResponses(400, 401) },
    handler: guarded(async ({ query, body }) => {
      const r = new ParamReader(mergedParams(query, body));
      r.requireAll(['description', 'reddit_appId', 'reddit_appSecret', 'reddit_scopes']);
      const input = readAuth(r);
      r.done();
      const id = await auths.create(input as RedditAuthInput);
      return { redditAuths: [{ id }] };
    }),
  });

  routes.add({
    method: 'GET',
    path: `${API_BASE}/redditauths/:authId`,
    summary: 'A reddit authorization',
    tags,
    params: AuthId,
    responses: { 200: envelope(Type.Object({ redditAuths: Type.Array(RedditAuthItem) }), 'The authorization'), ...errorResponses(401, 404) },
    handler: async ({ params }) => ({ redditAuths: [await existingAuth(params.authId)] }),
  });

  routes.add({
    method: 'PUT',
    path: `${API_BASE}/redditauths/:authId`,
    summary: 'Update a reddit authorization (any of its fields)',
    tags,
    params: AuthId,
    accepts,
    query: RedditAuthParams.query,
    body: RedditAuthParams.body,
    responses: { 200: envelope(Empty, 'Updated'), ...errorResponses(400, 401, 404) },
    handler: guarded(async ({ params, query, body }) => {
      const auth = await existingAuth(params.authId);
      const r = new ParamReader(mergedParams(query, body));
      if (!['description', 'reddit_appId', 'reddit_appSecret', 'reddit_scopes', 'reddit_refreshToken'].some((n) => r.has(n))) {
        throw badRequest('Nothing provided to update; give any of description, reddit_appId, reddit_appSecret, reddit_scopes, reddit_refreshToken.');
      }
      const patch = readAuth(r);
      r.done();
      if (!(await auths.update(auth.id, patch))) throw notFound(`Reddit authorization ${auth.id} was not found.`);
      return '';
    }),
  });

  routes.add({
    method: 'DELETE',
    path: `${API_BASE}/redditauths/:authId`,
    summary: 'Delete a reddit authorization that no bot uses',
    tags,
    params: AuthId,
    accepts,
    responses: { 200: envelope(Empty, 'Deleted'), ...errorResponses(400, 401, 404) },
    handler: guarded(async ({ params }) => {
      const auth = await existingAuth(params.authId);
      if (!(await auths.delete(auth.id))) throw notFound(`Reddit authorization ${auth.id} was not found.`);
      return '';
    }),
  });

  routes.add({
    method: 'GET',
    path: `${API_BASE}/redditauths/:authId/:field`,
    summary: 'One field of a reddit authorization',
    tags,
    params: AuthField,
    responses: { 200: envelope(Type.Object({ redditAuths: Type.Array(FieldItem) }), 'The id and the field'), ...errorResponses(400, 401, 404) },
    handler: async ({ params }) => {
      const auth = await existingAuth(params.authId);
      const field = fieldName(REDDIT_AUTH_FIELDS, params.field);
      if (!field) throw unknownField('redditauths', params.field, REDDIT_AUTH_FIELDS);
      return { redditAuths: [{ id: String(auth.id), [field]: auth[field as keyof typeof auth] }] };
    },
  });

  // -------------------------------------------------- everything else
  // redball answers 405 to PATCH, OPTIONS and HEAD anywhere under the API, before it looks
  // at the key; and 400 to a path it does not serve (no resource, unknown resource, too many
  // segments, or a method the path does not take).
  routes.add({
    method: ['PATCH', 'OPTIONS', 'HEAD'],
    path: `${API_BASE}{/*rest}`,
    hidden: true,
    auth: [],
    handler: () => {
      throw new HttpError(405, 'Method Not Allowed', { data: ['405 Method Not Allowed'], headers: { Allow: 'GET, POST, PUT, DELETE' } });
    },
  });
  routes.add({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    path: `${API_BASE}{/*rest}`,
    hidden: true,
    accepts,
    handler: ({ req }) => {
      const segments = req.path.split('/').filter(Boolean);
      const base = API_BASE.split('/').filter(Boolean).length + (routes.prefix.split('/').filter(Boolean).length);
      const resource = segments[base];
      if (resource === undefined) throw badRequest('No resource given; use bots, bottypes or redditauths.');
      if (!['bots', 'bottypes', 'redditauths'].includes(resource.toLowerCase())) throw badRequest(`Unknown resource '${resource}'; use bots, bottypes or redditauths.`);
      throw badRequest(`This API has no ${req.method} ${req.path}.`);
    },
  });
}
