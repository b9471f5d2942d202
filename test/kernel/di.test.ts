import 'reflect-metadata';
import t from 'tap';
import { inject, injectable } from 'tsyringe';
import { definePlugin, Tokens, Kernel, type Logger } from '../../src/index.js';
import type { Knex } from 'knex';

@injectable()
class Clock {
  now(): number {
    return 42;
  }
}

/** Resolved by class-typed constructor parameters: needs design:paramtypes from the loader. */
@injectable()
class Greeter {
  constructor(
    readonly clock: Clock,
    @inject(Tokens.Database) readonly db: Knex,
    @inject(Tokens.Logger) readonly logger: Logger,
    @inject(Tokens.Config) readonly config: { greeting: string },
  ) {}
}

t.test('decorator metadata survives the test loader and each kernel has its own container', async (t) => {
  t.ok(Reflect.getMetadata('design:paramtypes', Greeter), 'design:paramtypes emitted');
  const greeters: Greeter[] = [];
  const p = definePlugin({
    id: 'greet',
    version: '1',
    init(ctx) {
      greeters.push(ctx.container.resolve(Greeter));
    },
  });
  const a = new Kernel({ database: 'sqlite::memory:', logger: { level: 'silent' }, plugins: [{ plugin: p, config: undefined }] });
  const b = new Kernel({ database: 'sqlite::memory:', logger: { level: 'silent' }, plugins: [p] });
  await a.start();
  await b.start();
  t.equal(greeters[0].clock.now(), 42, 'class dependency injected');
  t.equal(greeters[0].db, a.db);
  t.equal(greeters[1].db, b.db, 'each kernel resolves its own database');
  t.not(a.container, b.container);
  t.same(greeters[0].config, {});
  await a.stop();
  await b.stop();
});

t.test('a plugin can provide a service to the plugins that depend on it', async (t) => {
  const TOKEN = Symbol('registry');
  let seen: unknown;
  const provider = definePlugin({ id: 'provider', version: '1', init: (ctx) => ctx.provide(TOKEN, { types: ['x'] }) });
  const consumer = definePlugin({ id: 'consumer', version: '1', dependsOn: ['provider'], init: (ctx) => void (seen = ctx.container.resolve(TOKEN)) });
  const k = new Kernel({ database: 'sqlite::memory:', logger: { level: 'silent' }, plugins: [consumer, provider] });
  await k.start();
  t.same(seen, { types: ['x'] });
  await k.stop();
});
