/**
 * What flows through the runtime: a chat {@link Message} a connector brought in (which a
 * skill answers with `respond`), a {@link WebhookRequest} for webhook skills, and a
 * {@link CronTick} for crontab skills.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';

/** A message the bot sends: to a connector (default: the one the message came from, or the first) and a target there. */
export interface OutgoingMessage {
  /** The text. */
  text: string;
  /** The connector's name; default the event's connector, else the first enabled connector. */
  connector?: string;
  /** Where in the connector (a websocket id, a room…); none: every open conversation. */
  target?: string | null;
  /** Who it is addressed to, when the connector cares. */
  user?: string | null;
}

/**
 * The longest message text the bot parses, in UTF-16 code units: a longer message is
 * dropped (logged, unparsed). A websocket frame may hold a megabyte, and every enabled
 * skill's expression runs over the whole text; opsdroid has no bound
 * (docs/compat/opsdroid.md).
 */
export const MAX_MESSAGE_TEXT = 16 * 1024;

/** The longest user name the bot accepts on a message (the `seen` skill keeps one row per name); a message from a longer one is dropped. */
export const MAX_MESSAGE_USER = 256;

/** What a connector hands the runtime for each incoming message. */
export interface MessageInput {
  /** The text. */
  text: string;
  /** Who wrote it, when known. */
  user?: string | null;
  /** Where the answer goes (e.g. the websocket id). */
  target?: string | null;
  /** The connector's name. */
  connector: string;
  /** The connector's raw event, for skills that need more. */
  raw?: unknown;
}

/** Where a message's responses go (the runtime). */
export interface ResponseSink {
  /** Delivers a response to `to` and counts it in the stats. */
  respond(to: Message, response: OutgoingMessage): Promise<void>;
}

/** An entity a parser extracted (a named regex group, for example). */
export interface Entity {
  /** The value. */
  value: unknown;
  /** How sure the parser is (null for regex). */
  confidence: number | null;
}

/** A chat message, as skills see it. */
export class Message {
  /** The text. */
  readonly text: string;
  /** Who wrote it, when known. */
  readonly user: string | null;
  /** Where answers go. */
  readonly target: string | null;
  /** The connector it came from. */
  readonly connector: string;
  /** The connector's raw event. */
  readonly raw: unknown;
  /** When it arrived (the runtime's clock). */
  readonly created: Date;
  /** The regex match that selected the skill (a list of matches for `findall`). */
  regex?: RegExpExecArray | RegExpExecArray[];
  /** Entities extracted by parsers, e.g. named regex groups. */
  readonly entities: Record<string, Entity> = Object.create(null) as Record<string, Entity>;
  /** True once a skill has responded (the response time is counted once). */
  respondedTo = false;
  /** High-resolution arrival time, for the response time. */
  readonly startedAt: number = performance.now();

  /**
   * @param input - what the connector received
   * @param created - the arrival time
   * @param sink - where responses go
   */
  constructor(
    input: MessageInput,
    created: Date,
    private readonly sink: ResponseSink,
  ) {
    this.text = input.text;
    this.user = input.user ?? null;
    this.target = input.target ?? null;
    this.connector = input.connector;
    this.raw = input.raw;
    this.created = created;
  }

  /** Answers this message through the connector it came from (or the one given). */
  respond(response: string | OutgoingMessage): Promise<void> {
    return this.sink.respond(this, typeof response === 'string' ? { text: response } : response);
  }

  /** Sets (or, with `append`, adds to) an entity. */
  updateEntity(name: string, value: unknown, confidence: number | null = null, append = false): void {
    const existing = this.entities[name];
    if (append && existing) {
      const values = Array.isArray(existing.value) ? existing.value : [existing.value];
      this.entities[name] = { value: [...values, value], confidence };
    } else this.entities[name] = { value, confidence };
  }
}

/** A webhook call, as a webhook skill sees it. */
export class WebhookRequest {
  /**
   * @param skill - the skill's name
   * @param webhook - the webhook's name
   * @param method - the HTTP method (POST)
   * @param headers - the request headers
   * @param query - the query parameters
   * @param body - the raw body
   */
  constructor(
    readonly skill: string,
    readonly webhook: string,
    readonly method: string,
    readonly headers: IncomingHttpHeaders,
    readonly query: Record<string, unknown>,
    readonly body: Buffer,
  ) {}

  /** The body as UTF-8 text. */
  text(): string {
    return this.body.toString('utf8');
  }

  /** The body parsed as JSON (throws a SyntaxError when it is not JSON). */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/**
 * A response a webhook skill returns to answer the HTTP request itself; it is sent unchanged
 * (otherwise the caller gets `{"called_skill": "<webhook>"}`).
 */
export class WebhookResponse {
  /**
   * @param status - the HTTP status
   * @param body - a string or Buffer (sent as is) or any other value (sent as JSON)
   * @param headers - extra headers
   */
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** What a crontab skill receives at each scheduled time. */
export interface CronTick {
  /** The cron expression that matched. */
  crontab: string;
  /** The time zone it was read in. */
  timezone: string;
  /** The scheduled time. */
  scheduledAt: Date;
}
