/**
 * One headless Chromium for the browser tests: Debian's `chromium` driven by
 * playwright-core (no browser download). Tests skip with a message when it
 * is not installed; `.ci/run` installs it.
 */
import { existsSync } from 'node:fs';

import { type Browser, chromium } from 'playwright-core';

/** FACEPOINTS_CHROMIUM, or Debian's chromium. */
export const CHROMIUM_PATH = process.env.FACEPOINTS_CHROMIUM ?? '/usr/bin/chromium';

/** false when Chromium is there, else why the browser tests skip (node:test's `skip` option). */
export const SKIP_BROWSER: false | string = existsSync(CHROMIUM_PATH)
  ? false
  : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set FACEPOINTS_CHROMIUM): browser tests skipped`;

/** Flags for a quiet, offline headless run; the fake camera lets the webcam path run without a camera. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
