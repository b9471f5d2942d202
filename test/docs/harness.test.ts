// The docs-test harness itself: the page format it reads, and that a page that does not do
// what it shows fails.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { showsExpected } from './harness/expected.js';
import { parseBlocks } from './harness/markdown.js';
import { instrumentShell, prepareProjectDir, rewriteAddresses, runPage } from './harness/run-page.js';
import { typecheckBlocks } from './harness/typescript.js';

const fence = '```';

const page = `# A page

${fence}sh
X=hello
echo "$X world"   # → hello …
echo nope   # → yes
${fence}

Prose.

> Not run by the docs tests: needs a load balancer.
${fence}sh
exit 3
${fence}

${fence}js
console.log(JSON.stringify({ a: 1, b: [2, 3] }, null, 2));
${fence}

${fence}json output
{"a": 1, "b": […]}
${fence}

${fence}sh
echo "$X again" >&2
false
${fence}

${fence}sh
echo never
${fence}

${fence}text
a diagram
${fence}
`;

t.test('the page format', async (t) => {
  const blocks = parseBlocks(page);
  t.same(blocks.map((b) => b.kind), ['shell', 'shell', 'js', 'output', 'shell', 'shell', 'other']);
  t.equal(blocks[1].marked, 'needs a load balancer.');
  t.equal(blocks[0].marked, undefined);
  t.equal(blocks[2].output, blocks[3]);
  t.equal(blocks[0].line, 3);

  const more = parseBlocks(`<!-- docs-test prelude: declare const kernel: unknown; -->\n${fence}ts\nkernel;\n${fence}\n\n${fence}js\n// bots/countdown.mjs — a bot\nexport {};\n${fence}\n\n${fence}ts file=examples/x.ts\nx\n${fence}\n`);
  t.equal(more[0].prelude, 'declare const kernel: unknown;');
  t.equal(more[1].file, 'bots/countdown.mjs');
  t.equal(more[2].kind, 'quoted');
  t.equal(more[2].quotedFrom, 'examples/x.ts');
  t.throws(() => parseBlocks(`${fence}json output\n{}\n${fence}\n`), /must follow a shell or js block/);
  t.throws(() => parseBlocks(`${fence}sh\necho\n`), /never closed/);
});

t.test('expected output: contained, … is any text, white space ignored', async (t) => {
  t.ok(showsExpected('{"meta":{"api_version":1},"errors":"","response":{"result":true}}', '{"result": true}'));
  t.ok(showsExpected('bot: Hey alice\n', 'bot: … alice'));
  t.ok(showsExpected('Bot installed\nID: 1\n', 'Bot installed\nID: 1'));
  t.notOk(showsExpected('{"response":{"result":false}}', '{"result": true}'));
  t.notOk(showsExpected('bot: Hey\n', 'bot: … alice'));
  t.notOk(showsExpected('', 'x'));
  t.ok(showsExpected('a.b(c)', 'a.b(c)'), 'regular-expression characters are literal');
  t.notOk(showsExpected('aXb', 'a.b'));
});

t.test('documented addresses are rewritten, nothing else', async (t) => {
  t.equal(
    rewriteAddresses('curl http://127.0.0.1:8080/a localhost:8080 127.0.0.1:9000 127.0.0.1:80800 10.0.0.1:8080 s.listen(9000, h)', { server: 4001, aux: 4002 }),
    'curl http://127.0.0.1:4001/a localhost:4001 127.0.0.1:4002 127.0.0.1:80800 10.0.0.1:8080 s.listen(4002, h)',
  );
});

t.test('commands with "# →" are captured; npm start & runs in the foreground', async (t) => {
  const [block] = parseBlocks(`${fence}sh\nnpm start &\ncurl a \\\n  b   # → one\n# → two\ncat <<'X'\n# → not a check\nX\nnpx thing\n# → three\n${fence}\n`);
  const { script, commands } = instrumentShell(block, 'b0', '/d');
  t.same(commands.map((c) => c.expected), ['one\ntwo', 'three']);
  t.same(commands.map((c) => c.line), [4, 9]);
  t.match(script, /^npm start\s*\n/);
  t.match(script, /\{ curl a \\\n {2}b\n\} > '\/d\/b0\.c0' 2> '\/d\/b0\.c0\.err' \|\| echo "\$\?" > '\/d\/b0\.c0\.rc'; cat '\/d\/b0\.c0'/);
  t.match(script, /# → not a check/);
  t.match(script, /\{ npx thing\n\} > '\/d\/b0\.c1'/);
});

t.test('a page that does not do what it shows fails', async (t) => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-docs-h-'));
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  prepareProjectDir(cwd);
  const result = await runPage({ blocks: parseBlocks(page), cwd });
  t.same(result.runs.map((r) => r.status), ['ok', 'ok', 'failed', 'not reached'], 'the marked block is skipped; a failing block stops the page');
  const [first, js, failing] = result.runs;
  t.same(first.commands.map((c) => [c.expected, c.actual?.trim(), c.exitCode]), [['hello …', 'hello world', 0], ['yes', 'nope', 0]]);
  t.ok(showsExpected(first.commands[0].actual!, first.commands[0].expected));
  t.notOk(showsExpected(first.commands[1].actual!, first.commands[1].expected), 'a wrong "# →" is caught');
  t.ok(showsExpected(js.stdout, js.block.output!.text), 'the js block printed its output block');
  t.match(failing.stderr, /hello again/, 'variables are shared between blocks');
  t.equal(result.startedServer, false);
});

t.test('a TypeScript block that does not compile is reported at its line', async (t) => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-docs-h-'));
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  prepareProjectDir(cwd);
  const blocks = parseBlocks(`text\n\n<!-- docs-test prelude: import { Kernel } from 'switchboard';\ndeclare const kernel: Kernel; -->\n${fence}ts\nawait kernel.start();\nconst n: number = 'x';\n${fence}\n`);
  const errors = await typecheckBlocks(blocks, cwd);
  t.same(errors.map((e) => [e.line, e.message.replace(/:.*/, '')]), [[7, 'error TS2322']]);
});
