import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless (playwright-core never downloads a browser here). The flags keep it from
 * reaching for the network at start, which this machine refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
