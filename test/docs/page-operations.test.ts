// Docs are tests: docs/operations.md, run as a reader would (see harness/page-test.ts for the format).
import { testPage } from './harness/page-test.js';

testPage('docs/operations.md');
