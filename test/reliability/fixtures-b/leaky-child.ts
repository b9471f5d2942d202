/**
 * A stand-in for a server that leaks: prints, as a log line on standard output, the first
 * user's password from its config (`SWITCHBOARD_CONFIG`), then exits. The secrets tests use
 * it to show that a child's output and config are captured.
 */
import fs from 'node:fs';
import YAML from 'yaml';

const config = YAML.parse(fs.readFileSync(process.env.SWITCHBOARD_CONFIG!, 'utf8')) as { users: Array<{ id: string; password: string }> };
process.stdout.write(`${JSON.stringify({ level: 30, msg: `user ${config.users[0].id} logs in with ${config.users[0].password}` })}\n`);
process.stdout.write(`${JSON.stringify({ level: 30, msg: 'an ordinary line' })}\n`);
