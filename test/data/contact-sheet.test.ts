import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { contactSheetSize, writeContactSheet } from '../../src/data/contact-sheet.js';
import { unscaleTarget as unscale } from '../../src/data/scaling.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';

const dir = await mkdtemp(join(tmpdir(), 'facepoints-sheet-'));
after(() => rm(dir, { recursive: true, force: true }));

test('writes a PNG grid of the expected size with green labels and red predictions', async () => {
  const faces = generateFaces({ count: 10, seed: 2 });
  const predictions = faces.targets.map((v) => v + 0.1);
  const path = join(dir, 'sheet.png');
  await writeContactSheet(path, {
    images: faces.images,
    count: 10,
    labels: faces.targets,
    predictions,
    columns: 4,
  });
  const expected = contactSheetSize({ count: 10, columns: 4 });
  assert.deepEqual(expected, { width: 4 * 192 + 5 * 2, height: 3 * 192 + 4 * 2 });
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.format, 'raw');
  assert.equal(info.width, expected.width);
  assert.equal(info.height, expected.height);
  // Face 0's left eye label is drawn green, its prediction red.
  const pixel = (fx: number, fy: number) => {
    const x = Math.round(2 + (fx + 0.5) * 2 - 0.5);
    const y = Math.round(2 + (fy + 0.5) * 2 - 0.5);
    const o = (y * info.width + x) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  const [gr, gg, gb] = pixel(unscale(faces.targets[0]), unscale(faces.targets[1]));
  assert.ok(gg > 200 && gr < 100 && gb < 100, `label pixel ${gr},${gg},${gb}`);
  const [rr, rg] = pixel(unscale(predictions[0]), unscale(predictions[1]));
  assert.ok(rr > 200 && rg < 100, `prediction pixel ${rr},${rg}`);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
    [],
  );
});
