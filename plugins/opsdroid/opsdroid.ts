/**
 * The opsdroid runtime: a small chat-ops bot behind the REST API.
 *
 * Connectors bring messages in; every message is counted and parsed: "always" skills see
 * it, and the regex parser ranks the regex skills and runs the best one (opsdroid's rules);
 * skills respond through the connector the message came from; databases give skills their
 * memory; the crontab parser runs crontab skills on schedule; webhook skills are called over
 * HTTP. Modules are configured by the plugin config plus the changes made through the
 * command center (persisted), and a change reloads just the module it concerns.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCodes, isSwitchboardError, Type, validateConfig, type Counter, type PluginContext } from '../../src/index.js';
import type { Clock } from './clock.js';
import type { OpsdroidConfig } from './config.js';
import { WebsocketConnector } from './connectors/websocket.js';
import type { Connector, ConnectorKind } from './connectors/connector.js';
import { CronSchedule } from './cron.js';
import { Memory, type Database, type DatabaseKind } from './databases.js';
import { MAX_MESSAGE_TEXT, MAX_MESSAGE_USER, Message, type MessageInput, type OutgoingMessage, type ResponseSink, type WebhookRequest } from './events.js';
import type { MemoryStore } from './memory-store.js';
import type { ModuleConfigStore } from './module-config-store.js';
import { BUILTIN_PARSERS, EXCLUDED_CONFIG_KEYS, isEnabled, MODULE_TYPES, moduleView, ParserConfigSchema, scrub, secretsIn, type ModuleConfig, type ModuleType } from './modules.js';
import type { Bot, CrontabMatcher, MessageHandler, RegexMatcher, Skill, SkillConfig, WebhookMatcher } from './skill.js';
import type { SocketRequestStore } from './socket-request-store.js';
import type { StatsCounters, StatsStore } from './stats-store.js';

/** The payload of `opsdroid.parsed`. */
export interface OpsdroidParsedEvent {
  /** The instance that parsed it. */
  instanceId: string;
  /** A chat message, or the runtime's own "started" event. */
  event: 'Message' | 'OpsdroidStarted';
  /** The connector a message came from. */
  connector: string | null;
  /** Who wrote it, when known. */
  user: string | null;
  /** Its text. */
  text: string | null;
  /** The skill the regex parser chose (none: nothing matched). */
  skills: string[];
}

/** The payload of `opsdroid.module.changed`. */
export interface OpsdroidModuleChangedEvent {
  /** The instance where the change was made. */
  instanceId: string;
  /** The section. */
  type: ModuleType;
  /** The module. */
  name: string;
  /** Whether it is enabled now. */
  enabled: boolean;
}

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    /** The opsdroid runtime parsed an event (after every skill it ran has finished). */
    'opsdroid.parsed': OpsdroidParsedEvent;
    /** A module's configuration changed through the command center (cluster-wide). */
    'opsdroid.module.changed': OpsdroidModuleChangedEvent;
    /** Stored changes were forgotten by `switchboard opsdroid reset` (cluster-wide): every instance reloads them. */
    'opsdroid.modules.reset': {
      /** The instance (or CLI) that reset them. */
      instanceId: string;
    };
  }
}

/**
 * How long the claim on one scheduled run of a crontab skill lives: far longer than any
 * clock skew between instances, so only one instance ever runs it.
 */
export const CRON_CLAIM_MS = 10 * 60 * 1000;

/** What the runtime is built from. */
export interface OpsdroidRuntimeOptions {
  /** The plugin's context (config, database, events, logger). */
  ctx: PluginContext<OpsdroidConfig>;
  /** The clock (cron, socket timeouts). */
  clock: Clock;
  /** Connector kinds by name. */
  connectors: ReadonlyMap<string, ConnectorKind>;
  /** Database kinds by name. */
  databases: ReadonlyMap<string, DatabaseKind>;
  /** Skills by name. */
  skills: ReadonlyMap<string, Skill>;
  /** Statistics. */
  stats: StatsStore;
  /** Persisted module changes. */
  overrides: ModuleConfigStore;
  /** The memory table. */
  memory: MemoryStore;
  /** Pending socket requests. */
  sockets: SocketRequestStore;
}

/** A module of the configuration. */
interface ModuleEntry {
  readonly type: ModuleType;
  readonly name: string;
  /** From the plugin config. */
  base: ModuleConfig;
  /** Changes made through the command center. */
  override?: ModuleConfig;
  /** `base` with `override` on top. */
  config: ModuleConfig;
  /** `enabled` is not false. */
  enabled: boolean;
  /** The config as skills and the command center see it (unscrubbed). */
  view: ModuleConfig;
}

/** Thrown when a change names a module that is neither configured nor available. */
export class ModuleNotFoundError extends Error {
  /**
   * @param type - the section
   * @param moduleName - the module's name
   */
  constructor(
    readonly type: string,
    readonly moduleName: string,
  ) {
    super(`There is no ${type} module named '${moduleName}'.`);
    this.name = 'ModuleNotFoundError';
  }
}

/** Thrown when a module's configuration does not match its schema. */
export class ModuleConfigError extends Error {
  /** @param message - names the module and the key */
  constructor(message: string) {
    super(message);
    this.name = 'ModuleConfigError';
  }
}

/** A webhook a skill declares. */
export interface FoundWebhook {
  /** The skill. */
  skill: Skill;
  /** The matcher. */
  matcher: WebhookMatcher;
}

/** The message counters of `/stats/`. */
export interface StatsMessages {
  /** Events parsed. */
  total_parsed: number;
  /** Webhook calls that passed auth. */
  webhooks_called: number;
  /** Seconds from arrival to first response, summed over answered events. */
  total_response_time: number;
  /** Answered events. */
  total_responses: number;
  /** `total_response_time / total_responses` (0 when none). */
  average_response_time: number;
}

/** The module counts of `/stats/`. */
export interface StatsModules {
  /** Enabled skills. */
  skills: number;
  /** Enabled connectors. */
  connectors: number;
  /** Enabled databases. */
  databases: number;
}

/** The `/stats/` body. */
export interface StatsBody {
  /** The plugin's version. */
  version: string;
  /** Message counters. */
  messages: StatsMessages;
  /** Loaded (enabled) modules. */
  modules: StatsModules;
}

/** Keys every module may have besides its own. */
const GENERIC_KEYS = new Set(['enabled', 'name', 'module', 'type', 'entrypoint', 'is_builtin', 'module_path', 'install_path', 'branch']);
const EnabledSchema = Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: true });

const WHOOPS = ['Whoops there has been an error.', 'Check the log for details.'];

/** The runtime. */
export class Opsdroid implements ResponseSink {
  /** The bot's memory (the enabled databases). */
  readonly memory: Memory;
  private readonly entries: Record<ModuleType, Map<string, ModuleEntry>> = { connectors: new Map(), skills: new Map(), databases: new Map(), parsers: new Map() };
  private readonly connectors = new Map<string, Connector>();
  private readonly databases = new Map<string, Database>();
  private readonly cron = new Map<string, CronSchedule[]>();
  private readonly bots = new Map<string, Bot>();
  private readonly excluded: ReadonlySet<string>;
  private readonly views = new Map<ModuleType, Record<string, ModuleConfig>>();
  private state: 'created' | 'loaded' | 'running' | 'stopped' = 'created';
  private changes: Promise<unknown> = Promise.resolve();
  private readonly ctx: PluginContext<OpsdroidConfig>;
  /** `switchboard_opsdroid_messages_parsed_total`: events parsed by this instance. */
  private readonly parsedCounter: Counter;
  /** `switchboard_opsdroid_skills_run_total{skill,trigger,outcome}`: skill runs by this instance. */
  private readonly skillsCounter: Counter<'skill' | 'trigger' | 'outcome'>;

  /** @param options - see {@link OpsdroidRuntimeOptions} */
  constructor(private readonly options: OpsdroidRuntimeOptions) {
    this.ctx = options.ctx;
    this.parsedCounter = options.ctx.metrics.counter({ name: 'messages_parsed_total', help: 'Events parsed by this instance (messages from connectors, and the start event), as /stats/ counts messages.parsed.' });
    this.skillsCounter = options.ctx.metrics.counter({
      name: 'skills_run_total',
      help: 'Skill runs by this instance, by skill, trigger (message, crontab, webhook) and outcome (ok, error).',
      labelNames: ['skill', 'trigger', 'outcome'],
    });
    this.excluded = new Set([...EXCLUDED_CONFIG_KEYS, ...options.ctx.config.web['command-center']['excluded-keys']]);
    this.memory = new Memory(() => this.enabledDatabases());
  }

  /** The runtime's clock. */
  get clock(): Clock {
    return this.options.clock;
  }

  /** True between `start` and `stop`. */
  get running(): boolean {
    return this.state === 'running';
  }

  // ---------------------------------------------------------------- configuration

  /**
   * Checks the plugin config's modules: each must be available and match its schema.
   * Throws an Error naming the module (the plugin then fails to start).
   */
  checkConfig(): void {
    for (const type of MODULE_TYPES) {
      for (const [name, raw] of Object.entries(this.ctx.config[type])) {
        if (!this.isAvailable(type, name)) throw new Error(`${type} '${name}' is configured but not available (available: ${this.availableNames(type).join(', ') || 'none'})`);
        this.validateModule(type, name, (raw ?? {}) as ModuleConfig);
      }
    }
  }

  /** Reads the persisted changes and builds the modules' configuration (nothing starts). */
  async load(): Promise<void> {
    const overrides = await this.options.overrides.all();
    for (const type of MODULE_TYPES) {
      this.entries[type].clear();
      for (const [name, raw] of Object.entries(this.ctx.config[type])) this.entries[type].set(name, this.entry(type, name, (raw ?? {}) as ModuleConfig));
    }
    for (const o of overrides) {
      if (!(MODULE_TYPES as readonly string[]).includes(o.type)) continue;
      if (!this.isAvailable(o.type, o.name)) {
        this.ctx.logger.warn({ type: o.type, name: o.name }, 'ignoring stored changes of a module that is not available');
        continue;
      }
      const entry = this.entries[o.type].get(o.name) ?? this.entry(o.type, o.name, {});
      try {
        this.setOverride(entry, o.config);
      } catch (err) {
        this.ctx.logger.error({ err, type: o.type, name: o.name }, 'ignoring stored changes that no longer match the module\'s schema');
        continue;
      }
      this.entries[o.type].set(o.name, entry);
    }
    this.views.clear();
    if (this.state === 'created') this.state = 'loaded';
  }

  private entry(type: ModuleType, name: string, base: ModuleConfig): ModuleEntry {
    const entry: ModuleEntry = { type, name, base, config: { ...base }, enabled: isEnabled(base), view: {} };
    entry.view = Object.freeze(moduleView(type, name, entry.config, this.isBuiltin(type, name)));
    this.registerSecrets(entry.config);
    return entry;
  }

  private setOverride(entry: ModuleEntry, override: ModuleConfig | undefined): void {
    const config = { ...entry.base, ...(override ?? {}) };
    this.validateModule(entry.type, entry.name, config);
    entry.override = override;
    entry.config = config;
    entry.enabled = isEnabled(config);
    entry.view = Object.freeze(moduleView(entry.type, entry.name, config, this.isBuiltin(entry.type, entry.name)));
    this.registerSecrets(config);
  }

  private registerSecrets(config: ModuleConfig): void {
    for (const secret of secretsIn(config, this.excluded)) this.ctx.secrets.add(secret);
  }

  private isAvailable(type: ModuleType, name: string): boolean {
    switch (type) {
      case 'connectors':
        return this.options.connectors.has(name);
      case 'databases':
        return this.options.databases.has(name);
      case 'skills':
        return this.options.skills.has(name);
      case 'parsers':
        return (BUILTIN_PARSERS as readonly string[]).includes(name);
    }
  }

  private availableNames(type: ModuleType): string[] {
    switch (type) {
      case 'connectors':
        return [...this.options.connectors.keys()];
      case 'databases':
        return [...this.options.databases.keys()];
      case 'skills':
        return [...this.options.skills.keys()];
      case 'parsers':
        return [...BUILTIN_PARSERS];
    }
  }

  private isBuiltin(type: ModuleType, name: string): boolean {
    if (type === 'connectors') return this.options.connectors.get(name)?.builtin ?? false;
    if (type === 'databases') return this.options.databases.get(name)?.builtin ?? false;
    return type === 'parsers';
  }

  /** Checks a module's configuration against its schema; throws a {@link ModuleConfigError}. */
  private validateModule(type: ModuleType, name: string, config: ModuleConfig): void {
    const at = ''; // keys are named from the module's configuration
    try {
      switch (type) {
        case 'connectors':
          validateConfig(at, this.options.connectors.get(name)!.schema, config);
          break;
        case 'databases':
          validateConfig(at, this.options.databases.get(name)!.schema, config);
          break;
        case 'parsers':
          validateConfig(at, ParserConfigSchema, config);
          break;
        case 'skills': {
          validateConfig(at, EnabledSchema, config);
          const schema = this.options.skills.get(name)!.config;
          if (schema) validateConfig(at, schema, Object.fromEntries(Object.entries(config).filter(([k]) => !GENERIC_KEYS.has(k))));
          break;
        }
      }
    } catch (err) {
      // Only the configuration check's own verdict is shown to the client; anything else is
      // an internal error (a 500 with the fixed text), whatever its message.
      if (!isSwitchboardError(err, ErrorCodes.INVALID_CONFIG)) throw err;
      // One line per problem from validateConfig; the answer is one line of text.
      throw new ModuleConfigError(`Invalid config for ${type} '${name}': ${(err as Error).message.split('\n').join('; ')}`);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Loads the configuration and starts every enabled module, then parses the "started" event. */
  async start(): Promise<void> {
    await this.load();
    await this.options.stats.start();
    this.state = 'running';
    for (const entry of this.entries.databases.values()) if (entry.enabled) this.startDatabase(entry);
    for (const entry of this.entries.skills.values()) if (entry.enabled) await this.setupSkill(entry);
    for (const entry of this.entries.connectors.values()) if (entry.enabled) await this.startConnector(entry);
    this.scheduleAllCron();
    if (this.ctx.config['welcome-message']) {
      this.ctx.logger.info('Welcome to opsdroid. Chat with your bot over the websocket connector; skills, connectors, databases and parsers are listed by the command center.');
    }
    this.ctx.events.on('opsdroid.module.changed', (change) => {
      if (change.instanceId !== this.ctx.instanceId) return this.applyRemoteChange(change.type, change.name);
    });
    // Changes this instance may have missed: the CLI's reset, or a reconnected cluster bridge.
    this.ctx.events.on('opsdroid.modules.reset', () => this.resync());
    this.ctx.events.on('cluster.resync', () => this.resync());
    await this.parseEvent(null);
  }

  /** Stops every module and writes the last statistics. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopped';
    await this.changes.catch(() => undefined);
    for (const name of [...this.cron.keys()]) this.unscheduleCron(name);
    for (const name of [...this.connectors.keys()]) await this.stopConnector(name);
    this.databases.clear();
    await this.options.stats.stop();
  }

  private startDatabase(entry: ModuleEntry): void {
    const kind = this.options.databases.get(entry.name)!;
    this.databases.set(entry.name, kind.create(entry.view, { store: this.options.memory, logger: this.ctx.logger.child({ database: entry.name }) }));
  }

  private enabledDatabases(): Database[] {
    const out: Database[] = [];
    for (const entry of this.entries.databases.values()) {
      const db = entry.enabled ? this.databases.get(entry.name) : undefined;
      if (db) out.push(db);
    }
    return out;
  }

  private async startConnector(entry: ModuleEntry): Promise<void> {
    const kind = this.options.connectors.get(entry.name)!;
    const connector = kind.create(entry.view, {
      receive: (input) => this.receive(input),
      clock: this.options.clock,
      logger: this.ctx.logger.child({ connector: entry.name }),
      sockets: this.options.sockets,
    });
    await connector.start();
    this.connectors.set(entry.name, connector);
  }

  private async stopConnector(name: string): Promise<void> {
    const connector = this.connectors.get(name);
    if (!connector) return;
    this.connectors.delete(name);
    try {
      await connector.stop();
    } catch (err) {
      this.ctx.logger.error({ err, connector: name }, 'connector failed to disconnect');
    }
  }

  private bot(skill: string): Bot {
    let bot = this.bots.get(skill);
    if (!bot) {
      bot = { memory: this.memory, send: (m) => this.send(m), now: () => this.options.clock.now(), logger: this.ctx.logger.child({ skill }) };
      this.bots.set(skill, bot);
    }
    return bot;
  }

  private async setupSkill(entry: ModuleEntry): Promise<void> {
    const skill = this.options.skills.get(entry.name)!;
    if (skill.setup) await skill.setup(this.bot(skill.name), entry.view as SkillConfig);
  }

  private isParserEnabled(name: string): boolean {
    return this.entries.parsers.get(name)?.enabled === true;
  }

  private scheduleAllCron(): void {
    for (const entry of this.entries.skills.values()) this.scheduleCron(entry);
  }

  private scheduleCron(entry: ModuleEntry): void {
    this.unscheduleCron(entry.name);
    if (this.state !== 'running' || !entry.enabled || !this.isParserEnabled('crontab')) return;
    const skill = this.options.skills.get(entry.name)!;
    const jobs: CronSchedule[] = [];
    for (const matcher of skill.matchers) {
      if (matcher.kind !== 'crontab') continue;
      const timezone = matcher.timezone ?? this.ctx.config.timezone ?? 'UTC';
      const job = new CronSchedule(matcher.crontab, timezone, this.options.clock, (at) => this.runCron(entry.name, matcher, timezone, at));
      job.start();
      jobs.push(job);
    }
    if (jobs.length > 0) this.cron.set(entry.name, jobs);
  }

  private unscheduleCron(skill: string): void {
    for (const job of this.cron.get(skill) ?? []) job.stop();
    this.cron.delete(skill);
  }

  private async runCron(skillName: string, matcher: CrontabMatcher, timezone: string, at: Date): Promise<void> {
    const entry = this.entries.skills.get(skillName);
    if (this.state !== 'running' || !entry?.enabled || !this.isParserEnabled('crontab')) return;
    if (this.ctx.clustered) {
      // Every instance has the schedule; exactly one of them runs each scheduled time.
      let mine: boolean;
      try {
        mine = await this.ctx.leases.once(`opsdroid:cron:${skillName}:${matcher.crontab}:${timezone}:${at.toISOString()}`, CRON_CLAIM_MS);
      } catch (err) {
        this.ctx.logger.error({ err, skill: skillName }, `could not claim the scheduled run of skill '${skillName}' at ${at.toISOString()}; skipped`);
        return;
      }
      if (!mine) return;
    }
    try {
      await matcher.handler(this.bot(skillName), entry.view as SkillConfig, { crontab: matcher.crontab, timezone, scheduledAt: at });
      this.skillsCounter.labels(skillName, 'crontab', 'ok').inc();
    } catch (err) {
      this.skillsCounter.labels(skillName, 'crontab', 'error').inc();
      this.ctx.logger.error({ err, skill: skillName }, `Exception when running skill '${skillName}'.`);
    }
  }

  // ---------------------------------------------------------------- the message flow

  /** A connector's incoming message: counted, parsed, answered (one over the bounds is dropped: see {@link MAX_MESSAGE_TEXT}). */
  async receive(input: MessageInput): Promise<void> {
    if (this.state !== 'running') return;
    if (input.text.length > MAX_MESSAGE_TEXT || (input.user?.length ?? 0) > MAX_MESSAGE_USER) {
      // Neither is logged: the text is the sender's, and too long to be worth keeping.
      this.ctx.logger.warn({ connector: input.connector, textLength: input.text.length, userLength: input.user?.length ?? 0 }, 'dropped a message over the size bounds');
      return;
    }
    try {
      await this.parseEvent(new Message(input, this.options.clock.now(), this));
    } catch (err) {
      // Connectors fire and forget; nothing a message does may take the process down.
      this.ctx.logger.error({ err, connector: input.connector }, 'could not parse a message');
    }
  }

  private async parseEvent(message: Message | null): Promise<void> {
    this.options.stats.record({ messagesParsed: 1 });
    this.parsedCounter.inc();
    const ran: string[] = [];
    if (message) {
      const always: Promise<void>[] = [];
      const candidates: Array<{ score: number; skill: Skill; entry: ModuleEntry; matcher: RegexMatcher; matches: RegExpExecArray[] }> = [];
      const regexOn = this.isParserEnabled('regex');
      for (const entry of this.entries.skills.values()) {
        if (!entry.enabled) continue;
        const skill = this.options.skills.get(entry.name)!;
        for (const matcher of skill.matchers) {
          if (matcher.kind === 'always') {
            always.push(this.runSkill(skill, entry, matcher.handler, message));
          } else if (matcher.kind === 'regex' && regexOn) {
            const matches = matcher.regex.exec(message.text);
            if (matches) candidates.push({ score: matcher.regex.score, skill, entry, matcher, matches });
          }
        }
      }
      // The best score wins; ties go to the skill configured first (a stable sort, as opsdroid's).
      candidates.sort((a, b) => b.score - a.score);
      const best = candidates[0];
      if (best) {
        message.regex = best.matcher.regex.condition === 'findall' ? best.matches : best.matches[0];
        for (const m of best.matches) {
          for (const [group, value] of Object.entries(m.groups ?? {})) message.updateEntity(group, value, null, true);
        }
        ran.push(best.skill.name);
      }
      // The skills that see every message (`seen` remembering who spoke) finish before the
      // matched skill answers, so a client that waits for the answer and then asks about it
      // ("when did you last see alice?") finds the message recorded. opsdroid runs both at
      // once, and the answer could overtake the record (docs/compat/opsdroid.md).
      await Promise.all(always);
      if (best) await this.runSkill(best.skill, best.entry, best.matcher.handler, message);
    }
    this.ctx.events.emit('opsdroid.parsed', {
      instanceId: this.ctx.instanceId,
      event: message ? 'Message' : 'OpsdroidStarted',
      connector: message?.connector ?? null,
      user: message?.user ?? null,
      text: message?.text ?? null,
      skills: ran,
    });
  }

  private async runSkill(skill: Skill, entry: ModuleEntry, handler: MessageHandler, message: Message): Promise<void> {
    try {
      await handler(this.bot(skill.name), entry.view as SkillConfig, message);
      this.skillsCounter.labels(skill.name, 'message', 'ok').inc();
    } catch (err) {
      this.skillsCounter.labels(skill.name, 'message', 'error').inc();
      this.ctx.logger.error({ err, skill: skill.name }, `Exception when running skill '${skill.name}'.`);
      try {
        for (const text of WHOOPS) await message.respond(text);
      } catch (inner) {
        this.ctx.logger.error({ err: inner }, 'could not tell the user about the error');
      }
    }
  }

  /** Delivers a response to a message and counts it (once per message, with its response time). */
  async respond(to: Message, response: OutgoingMessage): Promise<void> {
    if (!to.respondedTo) {
      to.respondedTo = true;
      this.options.stats.record({ totalResponses: 1, totalResponseTime: (performance.now() - to.startedAt) / 1000 });
    }
    const name = response.connector ?? to.connector;
    const connector = this.connectors.get(name);
    if (!connector) {
      this.ctx.logger.warn({ connector: name }, 'no such connector is running; response dropped');
      return;
    }
    await connector.send({ text: response.text, target: response.target !== undefined ? response.target : to.target, user: response.user ?? to.user });
  }

  /** Sends a message: to the named connector, or the first enabled one; no target means every conversation. */
  async send(message: string | OutgoingMessage): Promise<void> {
    const out = typeof message === 'string' ? { text: message } : message;
    let connector: Connector | undefined;
    if (out.connector) connector = this.connectors.get(out.connector);
    else {
      for (const entry of this.entries.connectors.values()) {
        connector = entry.enabled ? this.connectors.get(entry.name) : undefined;
        if (connector) break;
      }
    }
    if (!connector) {
      this.ctx.logger.warn({ connector: out.connector ?? null }, 'no connector to send the message with');
      return;
    }
    await connector.send({ text: out.text, target: out.target ?? null, user: out.user ?? null });
  }

  /** The webhook `webhook` of the enabled skill `skill`, if both exist. */
  findWebhook(skill: string, webhook: string): FoundWebhook | undefined {
    if (this.state !== 'running' || !this.entries.skills.get(skill)?.enabled) return undefined;
    const definition = this.options.skills.get(skill);
    const matcher = definition?.matchers.find((m): m is WebhookMatcher => m.kind === 'webhook' && m.webhook === webhook);
    return definition && matcher ? { skill: definition, matcher } : undefined;
  }

  /** Calls a webhook skill (counted); returns what the skill returned. Throws what it throws. */
  async callWebhook(found: FoundWebhook, request: WebhookRequest): Promise<unknown> {
    this.options.stats.record({ webhooksCalled: 1 });
    const entry = this.entries.skills.get(found.skill.name)!;
    this.ctx.logger.info({ skill: found.skill.name, webhook: found.matcher.webhook }, `Running skill ${found.skill.name} via webhook.`);
    try {
      const result = await found.matcher.handler(this.bot(found.skill.name), entry.view as SkillConfig, request);
      this.skillsCounter.labels(found.skill.name, 'webhook', 'ok').inc();
      return result;
    } catch (err) {
      this.skillsCounter.labels(found.skill.name, 'webhook', 'error').inc();
      throw err;
    }
  }

  /** The running websocket connector, when `websocket` is enabled. */
  websocket(): WebsocketConnector | undefined {
    const connector = this.connectors.get('websocket');
    return connector instanceof WebsocketConnector ? connector : undefined;
  }

  /** True when a module of that name is in the configuration (enabled or not). */
  isConfigured(type: ModuleType, name: string): boolean {
    return this.entries[type].has(name);
  }

  // ---------------------------------------------------------------- the command center

  /** The modules of a section as the command center shows them (sensitive keys removed). */
  moduleViews(type: ModuleType): Record<string, ModuleConfig> {
    let views = this.views.get(type);
    if (!views) {
      // Keyed by module name: a null-prototype object, so no name can reach Object.prototype.
      views = Object.create(null) as Record<string, ModuleConfig>;
      for (const entry of this.entries[type].values()) views[entry.name] = scrub(entry.view, this.excluded) as ModuleConfig;
      this.views.set(type, views);
    }
    return views;
  }

  /** The whole configuration as in effect now, sensitive keys removed at every depth. */
  configView(): Record<string, unknown> {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, value] of Object.entries(this.ctx.config)) {
      if ((MODULE_TYPES as readonly string[]).includes(key)) {
        out[key] = Object.fromEntries([...this.entries[key as ModuleType].values()].map((e) => [e.name, e.config]));
      } else out[key] = value;
    }
    return scrub(out, this.excluded) as Record<string, unknown>;
  }

  /** The `/stats/` body; reads no database (unless given counters, it uses the live ones). */
  statsBody(counters?: StatsCounters): StatsBody {
    const c = counters ?? this.options.stats.snapshot();
    return {
      version: this.ctx.version,
      messages: {
        total_parsed: c.messagesParsed,
        webhooks_called: c.webhooksCalled,
        total_response_time: c.totalResponseTime,
        total_responses: c.totalResponses,
        average_response_time: c.totalResponses > 0 ? c.totalResponseTime / c.totalResponses : 0,
      },
      modules: { skills: this.countEnabled('skills'), connectors: this.countEnabled('connectors'), databases: this.countEnabled('databases') },
    };
  }

  private countEnabled(type: ModuleType): number {
    let n = 0;
    for (const entry of this.entries[type].values()) if (entry.enabled) n++;
    return n;
  }

  /**
   * Shallow-merges `patch` into a module's configuration, persists it, and reloads the
   * module (`enabled: false` stops it, `true` brings it back). A module that is available
   * but not configured is added. Throws {@link ModuleNotFoundError} or {@link ModuleConfigError};
   * nothing changes then.
   */
  reconfigure(type: ModuleType, name: string, patch: ModuleConfig): Promise<void> {
    return this.exclusive(async () => {
      if (!this.isAvailable(type, name)) throw new ModuleNotFoundError(type, name);
      const existing = this.entries[type].get(name);
      const entry = existing ?? this.entry(type, name, {});
      const override = { ...(entry.override ?? {}), ...patch };
      this.validateModule(type, name, { ...entry.base, ...override });
      await this.options.overrides.save(type, name, override);
      this.setOverride(entry, override);
      if (!existing) this.entries[type].set(name, entry);
      this.views.delete(type);
      await this.reload(entry);
      this.ctx.logger.info({ type, name, enabled: entry.enabled }, `The module '${name}' in the section '${type}' was updated.`);
      this.ctx.events.emit('opsdroid.module.changed', { instanceId: this.ctx.instanceId, type, name, enabled: entry.enabled }, { cluster: true });
    });
  }

  /** Another instance changed a module: read its stored changes and reload it here. */
  private applyRemoteChange(type: ModuleType, name: string): Promise<void> {
    return this.exclusive(async () => {
      if (this.state !== 'running' || !this.isAvailable(type, name)) return;
      const stored = await this.options.overrides.get(type, name);
      const entry = this.entries[type].get(name) ?? this.entry(type, name, {});
      this.setOverride(entry, stored?.config);
      this.entries[type].set(name, entry);
      this.views.delete(type);
      await this.reload(entry);
    });
  }

  /**
   * Reads every stored change again and applies what differs from what runs here (after
   * `switchboard opsdroid reset`, or when cluster events may have been missed).
   */
  resync(): Promise<void> {
    return this.exclusive(async () => {
      if (this.state !== 'running') return;
      const stored = new Map((await this.options.overrides.all()).map((o) => [`${o.type}\u0000${o.name}`, o.config]));
      for (const type of MODULE_TYPES) {
        const names = new Set([...this.entries[type].keys()]);
        for (const key of stored.keys()) if (key.startsWith(`${type}\u0000`)) names.add(key.slice(type.length + 1));
        for (const name of names) {
          if (!this.isAvailable(type, name)) continue;
          const override = stored.get(`${type}\u0000${name}`);
          const existing = this.entries[type].get(name);
          if (stableJson(existing?.override) === stableJson(override)) continue;
          if (existing && !override && !Object.hasOwn(this.ctx.config[type], name)) {
            // Added through the command center only, and that change is forgotten: it goes away.
            existing.enabled = false;
            await this.reload(existing);
            this.entries[type].delete(name);
            this.views.delete(type);
            continue;
          }
          const entry = existing ?? this.entry(type, name, {});
          try {
            this.setOverride(entry, override);
          } catch (err) {
            this.ctx.logger.error({ err, type, name }, "ignoring stored changes that no longer match the module's schema");
            continue;
          }
          this.entries[type].set(name, entry);
          this.views.delete(type);
          await this.reload(entry);
        }
      }
    });
  }

  private async reload(entry: ModuleEntry): Promise<void> {
    if (this.state !== 'running') return;
    switch (entry.type) {
      case 'connectors':
        await this.stopConnector(entry.name);
        if (entry.enabled) await this.startConnector(entry);
        break;
      case 'databases':
        this.databases.delete(entry.name);
        if (entry.enabled) this.startDatabase(entry);
        break;
      case 'parsers':
        // The regex parser's flag is read for every message; the crontab parser owns the schedules.
        if (entry.name === 'crontab') this.scheduleAllCron();
        break;
      case 'skills':
        this.unscheduleCron(entry.name);
        if (entry.enabled) {
          await this.setupSkill(entry);
          this.scheduleCron(entry);
        }
        break;
    }
  }

  /** Resolves when every configuration change started so far (local or from another instance) is applied. */
  async settled(): Promise<void> {
    await this.changes;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changes.then(fn, fn);
    this.changes = run.catch(() => undefined);
    return run;
  }
}

/** JSON with object keys sorted, to compare configurations whatever order their keys came in. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
