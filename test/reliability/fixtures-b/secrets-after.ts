/**
 * The secrets-hygiene check, run by tap after every test file (`after` in package.json):
 * no secret recorded during the run (configured, registered, sent through an API or stored
 * in a database) may appear in any log line a test kernel or standalone child wrote. Prints
 * `log lines scanned: N, secrets checked: M`; on a finding, prints where (never the secret)
 * and exits 1, which fails `npm test`.
 *
 * The directory checked: the argument, else `SWB_TEST_LOG_DIR`, else this run's (tap's
 * runner is this script's parent too).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runLogDir, scanLogDir } from './secrets-scan.js';

if (process.env.TAP_CHILD_ID !== undefined) {
  // Run as a test file (a directory was given to tap): the check belongs after the run.
  process.stdout.write('1..0 # SKIP the secrets check runs after the whole test run\n');
  process.exit(0);
}

const dir = process.argv[2] || process.env.SWB_TEST_LOG_DIR || runLogDir();
const result = scanLogDir(dir);
const sources = Object.entries(result.bySource)
  .map(([k, n]) => `${k} ${n}`)
  .join(', ');
process.stdout.write(`# secrets hygiene: log lines scanned: ${result.lines}, secrets checked: ${result.secrets} (from ${sources || 'nowhere'}; ${result.files} log files)\n`);
if (result.findings.length > 0) {
  process.stdout.write(`# secrets hygiene FAILED: ${result.findings.length} secret(s) appear in the logs (kept in ${dir}):\n`);
  for (const f of result.findings) {
    process.stdout.write(`#   ${f.secret} from ${f.sources.join('; ')}\n#     in ${f.file} line ${f.line} (${f.lines} line(s)): ${f.excerpt}\n`);
  }
  process.exit(1);
}
fs.rmSync(dir, { recursive: true, force: true });
// Directories of runs that were killed before their check (their runner is gone).
const root = path.dirname(dir);
for (const name of fs.existsSync(root) ? fs.readdirSync(root) : []) {
  const pid = Number(/^run-(\d+)$/.exec(name)?.[1]);
  if (!pid) continue;
  try {
    process.kill(pid, 0);
  } catch {
    fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
}
