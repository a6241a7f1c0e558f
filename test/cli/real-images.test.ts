import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { cropToFrame, decodeImage, faceCropBox, pointsToFrame } from '../../src/data/crop.js';
import { readLandmarkCsv } from '../../src/data/import/landmark-files.js';
import { unscaleTarget } from '../../src/data/scaling.js';
import { mapIbug68ToKaggle15 } from '../../src/data/schemas.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { SHARED_DATA } from '../shared-data.js';
import { PHOTO_CSV_COLUMNS } from '../../src/predict/photo-output.js';
import { parseCsv, runCli, tempDir, trainSmallModel } from './helpers.js';

const UDACITY = join(SHARED_DATA, 'udacity');
const present = existsSync(join(UDACITY, 'test_frames_keypoints.csv'));

let root: string;
let cleanup: () => Promise<void>;
let model: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('real'));
  model = await trainSmallModel(join(root, 'run'), { faces: 100, epochs: 2 });
});
after(() => cleanup());

test("evaluate on real Udacity photos (PNGs named .jpg, many sizes) reports the errors of the net on the crop rule's frames", async (t) => {
  if (!present) {
    t.skip(`no Udacity data at ${UDACITY}`);
    return;
  }
  // Eight faces of the real test folder, through a landmark CSV of just them.
  const text = await readFile(join(UDACITY, 'test_frames_keypoints.csv'), 'utf8');
  const subset = join(root, 'eight.csv');
  await writeFile(subset, `${text.split('\n').slice(0, 9).join('\n')}\n`);
  const result = await runCli(
    'evaluate',
    model,
    join(UDACITY, 'test'),
    '--landmarks',
    subset,
    '--json',
    '--engine',
    'tfjs',
  );
  assert.equal(result.code, 0, result.stderr);
  const metrics = JSON.parse(result.stdout);
  assert.equal(metrics.faces, 8);

  // The same numbers computed here: crop each photo by its landmarks, predict, compare in frame pixels
  // with the 68 landmarks mapped to Kaggle's 15.
  const net = await NeuralNet.load(model, { engine: 'tfjs' });
  let squared = 0;
  let nmeSum = 0;
  for (const record of (await readLandmarkCsv(subset)).slice(0, 8)) {
    const box = faceCropBox(record.points);
    const frame = cropToFrame(await decodeImage(join(UDACITY, 'test', record.file)), box);
    const predicted = Array.from(await net.predict(frame), unscaleTarget);
    const labels = pointsToFrame(mapIbug68ToKaggle15(record.points), box);
    let distances = 0;
    for (let c = 0; c < 30; c += 2) {
      squared += (predicted[c] - labels[c]) ** 2 + (predicted[c + 1] - labels[c + 1]) ** 2;
      distances += Math.hypot(predicted[c] - labels[c], predicted[c + 1] - labels[c + 1]);
    }
    nmeSum += distances / 15 / Math.hypot(labels[0] - labels[2], labels[1] - labels[3]);
  }
  net.dispose();
  const rmse = Math.sqrt(squared / (8 * 30));
  // evaluate keeps labels in float32 after scaling; the tolerance covers that rounding.
  assert.ok(Math.abs(metrics.rmsePx - rmse) < 1e-3, `RMSE ${metrics.rmsePx} vs ${rmse}`);
  assert.ok(Math.abs(metrics.nme - nmeSum / 8) < 1e-5, `NME ${metrics.nme} vs ${nmeSum / 8}`);
  assert.equal(metrics.nmeFaces, 8);
});

test('predict on real photos with their face boxes gives points inside each box, in image pixels', async (t) => {
  if (!present) {
    t.skip(`no Udacity data at ${UDACITY}`);
    return;
  }
  const records = (await readLandmarkCsv(join(UDACITY, 'test_frames_keypoints.csv'))).slice(0, 3);
  for (const record of records) {
    const image = join(UDACITY, 'test', record.file);
    const box = faceCropBox(record.points);
    const out = join(root, `${record.file}.csv`);
    const boxText = [box.x, box.y, box.size].map((v) => v.toFixed(3)).join(',');
    const result = await runCli(
      'predict',
      model,
      image,
      '--box',
      boxText,
      '--out',
      out,
      '--draw',
      join(root, 'drawn'),
      '--force',
      '--engine',
      'tfjs',
    );
    assert.equal(result.code, 0, result.stderr);
    const values = parseCsv(await readFile(out, 'utf8'))
      .rows[0].slice(PHOTO_CSV_COLUMNS.length)
      .map(Number);
    for (let c = 0; c < values.length; c += 2) {
      assert.ok(
        values[c] > box.x - box.size * 0.25 && values[c] < box.x + box.size * 1.25,
        `x ${values[c]} of ${record.file}`,
      );
      assert.ok(
        values[c + 1] > box.y - box.size * 0.25 && values[c + 1] < box.y + box.size * 1.25,
        `y of ${record.file}`,
      );
    }
    const drawn = await sharp(join(root, 'drawn', record.file.replace(/\.jpg$/, '.png'))).metadata();
    const original = await sharp(image).metadata();
    assert.deepEqual([drawn.width, drawn.height], [original.width, original.height]);
  }
});
