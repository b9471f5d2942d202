/** The bot list cache: kept until a change, and a load that straddles a change is not kept. */
import t from 'tap';
import pino from 'pino';
import { EventBus } from '../../../src/index.js';
import { BotListCache, type BotView } from '../../../plugins/redball/index.js';

const bot = (id: number, name: string): BotView => ({ id, name, botType: 1, redditAuth: null, autoRun: 'False', status: 'Stopped', detailedState: {} });

t.test('kept between changes, dropped on a change here or elsewhere', async (t) => {
  const events = new EventBus(pino({ level: 'silent' }));
  const cache = new BotListCache(events);
  let loads = 0;
  const load = async () => [bot(++loads, `load ${loads}`)];
  t.same(await cache.get(load), [bot(1, 'load 1')]);
  t.same(await cache.get(load), [bot(2, 'load 2')], 'not kept before listen() (CLI mode)');
  cache.listen();
  t.same(await cache.get(load), [bot(3, 'load 3')]);
  t.same(await cache.get(load), [bot(3, 'load 3')], 'kept');
  t.same(cache.peek(), [bot(3, 'load 3')]);
  const seen: unknown[] = [];
  events.on('redball.bots.changed', (e) => void seen.push(e));
  cache.changed();
  t.equal(seen.length, 1, 'a change is announced on the bus');
  t.equal(cache.peek(), undefined);
  t.same(await cache.get(load), [bot(4, 'load 4')], 'reloaded after a change');
  events.emit('redball.bots.changed', { at: Date.now() });
  t.same(await cache.get(load), [bot(5, 'load 5')], 'a change announced by another instance drops it too');
  cache.close();
  t.same(await cache.get(load), [bot(6, 'load 6')], 'not kept after close()');
});

t.test('a load that began before a change is not kept', async (t) => {
  const cache = new BotListCache(new EventBus(pino({ level: 'silent' })));
  cache.listen();
  let release!: () => void;
  const slow = cache.get(() => new Promise<BotView[]>((resolve) => (release = () => resolve([bot(1, 'old')]))));
  cache.changed();
  release();
  t.same(await slow, [bot(1, 'old')], 'the caller gets what it read');
  t.equal(cache.peek(), undefined, 'but the stale list is not kept');
  t.same(await cache.get(async () => [bot(1, 'new')]), [bot(1, 'new')]);
  t.same(cache.peek(), [bot(1, 'new')]);
});

t.test('the pre-serialized list carries the declared fields only, in the text JSON.stringify writes', async (t) => {
  const cache = new BotListCache(new EventBus(pino({ level: 'silent' })));
  cache.listen();
  const view = bot(1, 'one');
  const leaky = { ...view, redditSecret: 'hunter2' } as BotView;
  const body = await cache.body(async () => [leaky]);
  t.equal(body.text, JSON.stringify({ bots: [view] }));
  t.equal(await cache.body(async () => [bot(2, 'not read')]), body, 'kept');
  cache.close();
});
