// Docs are tests: docs/deployment.md, run as a reader would (see harness/page-test.ts for the format).
import { testPage } from './harness/page-test.js';

testPage('docs/deployment.md');
