/**
 * The standalone server as one bundled CommonJS file, `dist/bundle/server.cjs` (bundle.mjs
 * builds it from this module), which `npm start` loads through its code cache (start.ts).
 * It only exports; starting is the loader's call.
 */
// First, before anything else loads: no `Object.prototype.__proto__` (see disable-proto.ts).
import './disable-proto.js';

export { runStandalone } from './run.js';
