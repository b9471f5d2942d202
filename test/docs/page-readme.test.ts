// Docs are tests: README.md, run as a reader would (see harness/page-test.ts for the format).
import { testPage } from './harness/page-test.js';

testPage('README.md');
