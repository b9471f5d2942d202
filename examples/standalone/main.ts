/**
 * The entry point of `npm start`: the standalone server with every bundled plugin.
 * (`npm start` runs this file bundled into one module, `dist/bundle/standalone.mjs`, which
 * starts several times faster than loading hundreds of separate modules.)
 */
// First, before anything else loads: no `Object.prototype.__proto__` (see disable-proto.ts).
import './disable-proto.js';
import { runStandalone } from './run.js';

void runStandalone();
