/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by
 * playwright-core (never a browser that playwright downloads). `.ci/run` installs the package
 * when it is missing; a machine without it skips the browser checks with a message that says
 * so, and nothing else.
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's package (and some other distributions) put the binary; `CHROMIUM_PATH` first. */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium binary, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p): p is string => !!p && fs.existsSync(p));
}

/** Why the browser checks are skipped (no binary), or false when they can run. */
export function skipWithoutChromium(): string | false {
  return chromiumPath() ? false : `no Chromium binary (${CANDIDATES.filter(Boolean).join(', ')}): install it with \`apt-get install -y chromium\` (.ci/run does)`;
}

/** Launches headless Chromium with no network of its own (no updates, no background requests). */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(skipWithoutChromium() || 'no Chromium');
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
