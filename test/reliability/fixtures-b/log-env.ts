/**
 * Preloaded into every test process by tap (`node-arg` in package.json): names this run's
 * log capture directory, so that test kernels and standalone children write their logs and
 * secrets there for the secrets-hygiene check after the run (secrets-after.ts). A directory
 * per run (tap's runner is every test file's parent) keeps runs started side by side apart.
 */
import { runLogDir } from './secrets-scan.js';

if (process.env.TAP_CHILD_ID !== undefined && !process.env.SWB_TEST_LOG_DIR) process.env.SWB_TEST_LOG_DIR = runLogDir();
