/**
 * A complete small plugin, walked through in `docs/writing-a-plugin.md`: a notes service
 * with a config schema, a migration, a store resolved through DI, validated routes in plain
 * JSON, a bearer token, an event, and a CLI command.
 */
import { injectable, inject } from 'tsyringe';
import {
  definePlugin,
  bearerToken,
  jsonResponder,
  safeEqual,
  HttpError,
  reply,
  Tokens,
  Type,
  type Migration,
  type PluginContext,
} from '../../src/index.js';

// 1. Events this plugin emits, added to the kernel's typed event map.
declare module '../../src/index.js' {
  interface SwitchboardEvents {
    /** A note was created. */
    'notes.created': {
      /** The new note's id. */
      id: number;
      /** Its title. */
      title: string;
    };
  }
}

// 2. The schema: one migration creates the plugin's table (prefixed: `notes_note`).
const migrations: Migration[] = [
  {
    name: '001_init',
    async up(db, { table }) {
      await db.schema.createTable(table('note'), (t) => {
        t.increments('id');
        t.string('title', 200).notNullable();
        t.text('body').notNullable();
      });
    },
  },
];

/** A stored note. */
export interface Note {
  /** Its id. */
  id: number;
  /** Its title. */
  title: string;
  /** Its text. */
  body: string;
}

// 3. The behaviour, in a store resolved from the plugin's DI container.
/** Reads and writes notes. */
@injectable()
export class NoteStore {
  private readonly table: string;

  /** @param ctx - the plugin's context, injected by token: its database and table names */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('note');
  }

  private get db() {
    return this.ctx.db;
  }

  /** Creates a note and returns its id. */
  async create(title: string, body: string): Promise<number> {
    const [row] = await this.db(this.table).insert({ title, body }, ['id']);
    return Number(typeof row === 'object' ? row.id : row);
  }

  /** Finds a note by id. */
  async find(id: number): Promise<Note | undefined> {
    return this.db(this.table).where({ id }).first();
  }

  /** Counts the notes. */
  async count(): Promise<number> {
    const [{ n }] = await this.db(this.table).count({ n: '*' });
    return Number(n);
  }
}

// 4. The descriptor: id, version, config schema with defaults, migrations and hooks.
/** The notes plugin. */
export const notesPlugin = definePlugin({
  id: 'notes',
  version: '1.0.0',
  description: 'A small notes API (the plugin-writing walkthrough)',
  config: Type.Object({
    token: Type.String({ minLength: 8, description: 'Bearer token required to write notes' }),
    maxTitle: Type.Integer({ default: 100, minimum: 1 }),
  }),
  migrations,
  init(ctx) {
    ctx.secrets.add(ctx.config.token);
    const store = ctx.container.resolve(NoteStore);
    const writer = bearerToken({ verify: (token) => (safeEqual(token, ctx.config.token) ? { id: 'writer' } : null) });
    ctx.routes.defaults({ responder: jsonResponder(), methodNotAllowed: true });

    ctx.routes.add({
      method: 'POST',
      path: '/notes',
      summary: 'Create a note',
      auth: writer,
      body: Type.Object({ title: Type.String({ minLength: 1, maxLength: ctx.config.maxTitle }), body: Type.String() }),
      responses: { 201: Type.Object({ id: Type.Integer() }) },
      handler: async ({ body }) => {
        const id = await store.create(body.title, body.body);
        ctx.events.emit('notes.created', { id, title: body.title });
        return reply(201, { id });
      },
    });

    ctx.routes.add({
      method: 'GET',
      path: '/notes/:id',
      summary: 'Read a note',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      responses: { 200: Type.Object({ id: Type.Integer(), title: Type.String(), body: Type.String() }) },
      handler: async ({ params }) => {
        const note = await store.find(params.id);
        if (!note) throw new HttpError(404, `No note ${params.id}`);
        return note;
      },
    });
  },

  // 5. A CLI command: `switchboard notes count`.
  cli(command, session) {
    command
      .command('count')
      .description('print how many notes there are')
      .action(() =>
        session.run(async (ctx) => {
          session.out(String(await ctx.container.resolve(NoteStore).count()));
        }),
      );
  },
});
