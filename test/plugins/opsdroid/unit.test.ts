/**
 * The opsdroid plugin's pure parts (no database): the PATCH payload rules with Python's
 * texts, regex matching as opsdroid does it, the manual clock and croner schedules, module
 * views, websocket frames and the skill checks.
 */
import t from 'tap';
import {
  compileRegex,
  CronSchedule,
  defineSkill,
  humanAgo,
  ManualClock,
  matchCrontab,
  matchWebhook,
  moduleView,
  parseFrame,
  parsePatchPayload,
  PatchPayloadError,
  pythonRepr,
  pythonStr,
  scrub,
  seenSkill,
} from '../../../plugins/opsdroid/index.js';

const reasonOf = (text: string): string => {
  try {
    parsePatchPayload(text);
    return 'ok';
  } catch (err) {
    if (err instanceof PatchPayloadError) return err.reason;
    throw err;
  }
};

t.test('PATCH payloads follow Payload.from_dict', async (t) => {
  t.same(parsePatchPayload('{"module_type": "skills", "module_name": "seen", "config": {"enabled": false}, "extra": 1}'), {
    module_type: 'skills',
    module_name: 'seen',
    config: { enabled: false },
  });
  t.equal(reasonOf('nope'), 'Unable to decode json.');
  t.equal(reasonOf('[]'), `"Received payload is missing required key: 'module_type', please include all required keys ('module_type', 'module_name', 'config') in your payload."`);
  t.equal(reasonOf('["module_type", "module_name", "config"]'), 'list indices must be integers or slices, not str');
  t.equal(reasonOf('"module_type module_name config"'), "string indices must be integers, not 'str'");
  t.equal(reasonOf('"x"'), `"Received payload is missing required key: 'module_type', please include all required keys ('module_type', 'module_name', 'config') in your payload."`);
  t.equal(reasonOf('null'), "argument of type 'NoneType' is not iterable");
  t.equal(reasonOf('true'), "argument of type 'bool' is not iterable");
  t.equal(reasonOf('1.5'), "argument of type 'float' is not iterable");
  t.equal(reasonOf('{"module_type": ["skills"], "module_name": "x", "config": {}}'), "The change type '['skills']' is not a supported type. Please provide one of the allowed types ('connectors', 'skills', 'databases', 'parsers').");
  t.equal(reasonOf('{"module_type": "skills", "module_name": true, "config": {}}'), "The field 'module_name' is of type '<class 'bool'>', but should be of type '<class 'str'>'");
  t.equal(reasonOf('{"module_type": "skills", "module_name": "x", "config": null}'), "The field 'config' is of type '<class 'NoneType'>', but should be of type '<class 'dict'>'");
  t.equal(pythonRepr("it's"), `"it's"`);
  t.equal(pythonRepr('a\'b"c'), `'a\\'b"c'`);
  t.equal(pythonStr({ a: [1, 'x', null, true] }), "{'a': [1, 'x', None, True]}");
});

t.test("the seen skill's name is at most 200 characters (its search stays linear in the text)", async (t) => {
  const [ask] = seenSkill.matchers;
  if (ask.kind !== 'regex') throw new Error('seen asks with a regex');
  t.equal(ask.regex.exec('so when did you last see alice?')?.[0].groups?.name, 'alice');
  t.equal(ask.regex.exec('When did you last see a?b')?.[0].groups?.name, 'a?b', 'as opsdroid: a question mark inside the name');
  t.equal(ask.regex.exec(`when did you last see ${'n'.repeat(200)}?`)?.[0].groups?.name.length, 200);
  t.equal(ask.regex.exec(`when did you last see ${'n'.repeat(201)}?`), null);
  t.equal(ask.regex.exec(`${'when did you last see '.repeat(2000)}\nx`), null, 'the phrase many times over, then a line break: no match');
});

t.test('regex matching as opsdroid does it', async (t) => {
  const named = compileRegex('when did you last see (?P<name>.*)\\?', true, 'match', 0.6);
  t.equal(named.exec('when did you last see Bob?')?.[0].groups?.name, 'Bob', 'Python named groups');
  t.equal(named.exec('so when did you last see Bob?'), null, 'match anchors at the start');
  t.ok(compileRegex('last see', true, 'search', 0.6).exec('so when did you last see Bob?'), 'search finds it anywhere');
  t.equal(compileRegex('hi', true, 'fullmatch', 0.6).exec('hi there'), null, 'fullmatch needs the whole text');
  t.equal(compileRegex('HI', true, 'match', 0.6).exec('hi'), null, 'case sensitive by default');
  t.ok(compileRegex('HI', false, 'match', 0.6).exec('hi'));
  t.equal(compileRegex('\\d', true, 'findall', 0.6).exec('a1b2c3')?.length, 3, 'findall lists every match');
  t.ok(compileRegex('(?P<x>a)(?P=x)', true, 'fullmatch', 0.6).exec('aa'), 'Python backreferences');
  const short = compileRegex('hi', true, 'match', 0.6);
  const long = compileRegex('hi there', true, 'match', 0.6);
  t.ok(long.score > short.score, 'longer expressions rank higher');
  t.equal(short.score, (1 - 1 / 9) * 0.6, "opsdroid's formula");
  t.throws(() => compileRegex('(unclosed', true, 'match', 0.6), SyntaxError);
});

t.test('the manual clock runs croner schedules in time order', async (t) => {
  const clock = new ManualClock('2025-01-06T07:59:00Z');
  const runs: string[] = [];
  const utc = new CronSchedule('*/30 * * * *', 'UTC', clock, async (at) => void runs.push(`utc ${at.toISOString()}`));
  const berlin = new CronSchedule('0 9 * * 1-5', 'Europe/Berlin', clock, async (at) => {
    runs.push(`berlin ${at.toISOString()} now=${clock.now().toISOString()}`);
  });
  utc.start();
  berlin.start();
  t.equal(berlin.nextRun()?.toISOString(), '2025-01-06T08:00:00.000Z', '09:00 in Berlin is 08:00Z in winter');
  await clock.advance(60_000);
  t.same(runs, ['utc 2025-01-06T08:00:00.000Z', 'berlin 2025-01-06T08:00:00.000Z now=2025-01-06T08:00:00.000Z'], 'now() is the due time while a job runs');
  await clock.advanceTo('2025-01-06T09:00:00Z');
  t.same(runs.slice(2), ['utc 2025-01-06T08:30:00.000Z', 'utc 2025-01-06T09:00:00.000Z']);
  utc.stop();
  await clock.advanceTo('2025-01-07T08:00:00Z');
  t.same(runs.slice(4), ['berlin 2025-01-07T08:00:00.000Z now=2025-01-07T08:00:00.000Z'], 'a stopped schedule no longer fires');
  berlin.stop();
  t.equal(clock.pending, 0);
  t.throws(() => new ManualClock('not a date'), TypeError);
});

t.test('skills are checked when declared', async (t) => {
  t.throws(() => defineSkill({ name: 'x', matchers: [matchCrontab('every minute', () => undefined)] }), /Skill 'x': invalid crontab 'every minute'/);
  t.throws(() => defineSkill({ name: 'x', matchers: [matchCrontab('* * * * *', () => undefined, { timezone: 'Nowhere/City' })] }), /invalid crontab/);
  t.throws(() => defineSkill({ name: 'x', matchers: [matchWebhook('a', () => undefined), matchWebhook('a', () => undefined)] }), /declares webhook 'a' twice/);
  t.throws(() => defineSkill({ name: 'x y', matchers: [] }), /Invalid skill name/);
  t.throws(() => defineSkill({ name: 'x', matchers: [matchWebhook('a/b', () => undefined)] }), /invalid webhook name/);
});

t.test('module views and scrubbing', async (t) => {
  const view = moduleView('parsers', 'crontab', { enabled: false, name: 'ignored', type: 'ignored', branch: 'dev' }, true);
  t.same(Object.keys(view), ['name', 'module', 'enabled', 'branch', 'type', 'entrypoint', 'module_path', 'install_path']);
  t.same(view, { name: 'crontab', module: '', enabled: false, branch: 'dev', type: 'parsers', entrypoint: null, module_path: 'opsdroid.parsers.crontab', install_path: 'opsdroid_modules/parsers/crontab' });
  t.same(scrub({ a: { token: 'x', b: [{ password: 'y', c: 1 }] }, token: 'z' }, new Set(['token', 'password'])), { a: { b: [{ c: 1 }] } });
  const hostile = moduleView('skills', 'x', JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>, false);
  t.equal(Object.getPrototypeOf(hostile), Object.prototype, 'a __proto__ key stays a plain key');
  t.equal(JSON.parse(JSON.stringify(hostile)).__proto__.polluted, true);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('websocket frames and relative times', async (t) => {
  t.same(parseFrame('hi'), { message: 'hi', user: null });
  t.same(parseFrame('{"message": "hi", "user": "ann", "socket": "x"}'), { message: 'hi', user: 'ann' });
  t.same(parseFrame('{"no": "message"}'), { message: '{"no": "message"}', user: null });
  t.same(parseFrame('{broken'), { message: '{broken', user: null });
  t.same(parseFrame('42'), { message: '42', user: null });
  const now = new Date('2025-01-01T12:00:00Z');
  t.equal(humanAgo(new Date('2025-01-01T11:59:58Z'), now), '2 seconds ago');
  t.equal(humanAgo(new Date('2025-01-01T11:55:00Z'), now), '5 minutes ago');
  t.equal(humanAgo(new Date('2025-01-01T10:00:00Z'), now), '2 hours ago');
  t.equal(humanAgo(new Date('2024-12-29T12:00:00Z'), now), '3 days ago');
});
