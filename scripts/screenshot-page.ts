// The README's screenshot of the page: `facepoints serve`'s page in headless
// Chromium with the keypoints of a GENERATED face (src/data/synthetic-faces.ts)
// drawn. Never feed it a photo of the shared data: the image goes into docs/.
//
//   node --import tsx scripts/screenshot-page.ts MODEL [OUT.png] [--seed N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';
import sharp from 'sharp';

import { PIXEL_MAX } from '../src/data/scaling.js';
import { generateFaces } from '../src/data/synthetic-faces.js';
import { startServer } from '../src/serve/server.js';
import { buildWeb } from './build-browser.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string', default: '12' } },
});
const [model, out = 'docs/browser-page.png'] = positionals;
if (!model) {
  console.error('usage: node --import tsx scripts/screenshot-page.ts MODEL [OUT.png] [--seed N]');
  process.exit(1);
}

const faces = generateFaces({ count: 1, seed: Number(values.seed) });
const pixels = Buffer.from(Array.from(faces.images.subarray(0, 96 * 96), (v) => Math.round(v * PIXEL_MAX)));
const png = await sharp(pixels, { raw: { width: 96, height: 96, channels: 1 } })
  .resize(288, 288, { kernel: 'nearest' })
  .png()
  .toBuffer();

const dir = await mkdtemp(join(tmpdir(), 'facepoints-screenshot-'));
const server = await startServer({ model, port: 0, webDir: await buildWeb(join(dir, 'web')) });
const browser = await chromium.launch({
  executablePath: process.env.FACEPOINTS_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
  await page.goto(server.url);
  await page.evaluate(() => window.facepointsPage.ready);
  await page.setInputFiles('#file', {
    name: `generated-face-${values.seed}.png`,
    mimeType: 'image/png',
    buffer: png,
  });
  await page.waitForFunction(() => window.facepointsPage.runs > 0);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
