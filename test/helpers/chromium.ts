import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Chromium for tests that render pages (the system's /usr/bin/chromium, no download).
 * `chromiumMissingReason()` says why a test must skip; under CI a missing browser is a failure,
 * never a skip, so the CI job cannot pass without actually rendering.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export function chromiumMissingReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const reason = `${CHROMIUM_PATH} is not installed (apt-get install chromium)`;
  if (process.env.CI) throw new Error(`${reason}: required under CI`);
  return reason;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
