#!/usr/bin/env node
/** The `switchboard` command's entry point (see `cli.ts`). */
// First, before anything else loads: no `Object.prototype.__proto__` (see disable-proto.ts).
import './disable-proto.js';
import { buildCli } from './cli.js';

buildCli()
  .parseAsync(process.argv)
  .catch((err: Error) => {
    process.stderr.write(`switchboard: ${err.message}\n`);
    process.exit(1);
  });
