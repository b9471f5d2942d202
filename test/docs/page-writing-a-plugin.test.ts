// Docs are tests: docs/writing-a-plugin.md, as a reader would use it (see harness/page-test.ts
// for the format). The guide's host imports the plugin it built as './notes-plugin.js': in the
// scratch host that module is the guide's example plugin, built from examples/notes-plugin/.
import path from 'node:path';
import { testPage } from './harness/page-test.js';
import { REPO } from './harness/run-page.js';

testPage('docs/writing-a-plugin.md', {
  hostFiles: { 'notes-plugin.ts': `export { notesPlugin } from '${path.join(REPO, 'dist/examples/notes-plugin/index.js')}';\n` },
});
