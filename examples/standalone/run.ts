/**
 * Running the standalone server until SIGINT or SIGTERM (`npm start`, `switchboard start`).
 *
 * The kernel installs no signal handlers; this app does, and stops gracefully.
 */
import { loadStandaloneConfig } from './config.js';
import { createStandalone } from './app.js';

/** What {@link runStandalone} may be asked to do besides serving. */
export interface RunOptions {
  /**
   * Called once the server listens, just before the line that says so is written (whoever
   * waits for that line finds this done). `npm start` saves its code cache here.
   */
  onListening?: () => void;
}

/**
 * Loads the config, starts every plugin, then listens, and stops on SIGINT/SIGTERM. Exits 1
 * on a startup error, with one `switchboard: …` line per problem on stderr.
 */
export async function runStandalone(configFile?: string, options: RunOptions = {}): Promise<void> {
  let standalone;
  try {
    const { config, file } = loadStandaloneConfig(process.env, configFile);
    standalone = createStandalone(config);
    const url = await standalone.start();
    options.onListening?.();
    process.stdout.write(`Switchboard listening on ${url}${file ? ` (config: ${file})` : ''}\n`);
  } catch (err) {
    // One line per problem (a config error may list several), never a stack.
    for (const line of (err as Error).message.split('\n')) process.stderr.write(`switchboard: ${line}\n`);
    await standalone?.stop().catch(() => undefined);
    process.exit(1);
  }
  const s = standalone;
  const shutdown = (signal: string) => {
    process.stdout.write(`Switchboard stopping (${signal})\n`);
    // A second signal, or a stop that hangs, ends the process anyway.
    setTimeout(() => process.exit(1), 1900).unref();
    s.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

