#!/usr/bin/env node
/** The `switchboard` command's entry point (see `cli.ts`). */
// First, before anything else loads: no `Object.prototype.__proto__` (see disable-proto.ts).
import './disable-proto.js';
import { buildCli } from './cli.js';

// A reader that stops early (`switchboard openapi | head`) closes the pipe: stop quietly, as
// Unix tools do, instead of an unhandled EPIPE and its stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

buildCli()
  .parseAsync(process.argv)
  .catch((err: Error) => {
    process.stderr.write(`switchboard: ${err.message}\n`);
    process.exit(1);
  });
