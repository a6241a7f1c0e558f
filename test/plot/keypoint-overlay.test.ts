import assert from 'node:assert/strict';
import { test } from 'node:test';

import sharp from 'sharp';

import { keypointOverlayPng } from '../../src/plot/keypoint-overlay.js';

test('an overlay dot is centred on its pixel (pixel centres at integers, as the crop uses)', async () => {
  const size = 21;
  const black = await sharp(Buffer.alloc(size * size), { raw: { width: size, height: size, channels: 1 } })
    .png()
    .toBuffer();
  const png = await keypointOverlayPng(black, [6, 13], { radius: 3, color: '#ffffff' });
  const { data, info } = await sharp(png)
    .removeAlpha()
    .grayscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < info.width * info.height; i++) {
    sum += data[i];
    sx += data[i] * (i % info.width);
    sy += data[i] * Math.floor(i / info.width);
  }
  // Half a pixel off (the dot drawn at the pixel's corner) would put the centre near (5.5, 12.5).
  assert.ok(Math.abs(sx / sum - 6) < 0.1 && Math.abs(sy / sum - 13) < 0.1, `${sx / sum}, ${sy / sum}`);
});
