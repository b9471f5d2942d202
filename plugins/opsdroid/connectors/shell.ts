/**
 * The `shell` connector, as opsdroid's: reads lines from standard input as messages from
 * the local user and prints the bot's answers. A host (or a test) can give other streams.
 * Nothing is read until the connector is enabled in the configuration.
 */
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Type, type TSchema } from '../../../src/index.js';
import type { Connector, ConnectorEnv, ConnectorKind, Delivery } from './connector.js';

/** The shell connector's config keys. */
export const ShellConfigSchema: TSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    'bot-name': Type.Optional(Type.String({ description: 'The prompt\'s name (default "opsdroid").' })),
  },
  { additionalProperties: true },
);

/** Options of {@link shellConnector}. */
export interface ShellOptions {
  /** Where lines are read (default `process.stdin`). */
  input?: Readable;
  /** Where answers are written (default `process.stdout`). */
  output?: Writable;
  /** The local user's name (default `$LOGNAME`, `$USER`, `$LNAME` or `$USERNAME`). */
  user?: string;
}

function localUser(): string | null {
  for (const name of ['LOGNAME', 'USER', 'LNAME', 'USERNAME']) {
    const value = process.env[name];
    if (value) return value;
  }
  return null;
}

/** A running shell connector. */
export class ShellConnector implements Connector {
  private rl?: readline.Interface;
  private readonly botName: string;

  /**
   * @param name - the connector's name
   * @param config - its configuration
   * @param env - the runtime
   * @param options - the streams
   */
  constructor(
    readonly name: string,
    config: Readonly<Record<string, unknown>>,
    private readonly env: ConnectorEnv,
    private readonly options: ShellOptions,
  ) {
    this.botName = typeof config['bot-name'] === 'string' ? config['bot-name'] : 'opsdroid';
  }

  private get output(): Writable {
    return this.options.output ?? process.stdout;
  }

  private prompt(): void {
    if ((this.output as Writable & { isTTY?: boolean }).isTTY) this.output.write(`${this.botName}> `);
  }

  /** Starts reading lines. */
  async start(): Promise<void> {
    if (this.rl) return;
    const input = this.options.input ?? process.stdin;
    const user = this.options.user ?? localUser();
    this.rl = readline.createInterface({ input, terminal: false, crlfDelay: Infinity });
    this.rl.on('line', (line) => {
      void this.env.receive({ text: line, user, target: null, connector: this.name }).finally(() => this.prompt());
    });
    this.prompt();
  }

  /** Stops reading (the stream itself is left open). */
  async stop(): Promise<void> {
    this.rl?.close();
    this.rl = undefined;
  }

  /** Prints the answer on its own line. */
  async send(delivery: Delivery): Promise<void> {
    await new Promise<void>((resolve) => this.output.write(`${delivery.text}\n`, () => resolve()));
  }
}

/** The `shell` connector kind, reading `options.input` (default standard input). */
export function shellConnector(options: ShellOptions = {}): ConnectorKind {
  return {
    name: 'shell',
    builtin: true,
    schema: ShellConfigSchema,
    create: (config, env) => new ShellConnector(String(config.name ?? 'shell'), config, env, options),
  };
}
