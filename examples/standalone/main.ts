/**
 * The standalone server with every bundled plugin, run from the compiled modules (or the
 * TypeScript sources). `npm start` runs the same server bundled instead, which starts several
 * times faster than loading hundreds of separate modules: see start.ts and bundle.mjs.
 */
// First, before anything else loads: no `Object.prototype.__proto__` (see disable-proto.ts).
import './disable-proto.js';
import { runStandalone } from './run.js';

void runStandalone();
