// The training system on realistic input: the project's generated 96x96
// faces with Kaggle-15 keypoints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IMAGE_SIZE, rmseInPixels, unscaleTarget } from '../../src/data/scaling.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { FlipBatchIterator } from '../../src/train/flip-batch-iterator.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { presetNetOptions } from '../../src/train/preset-options.js';
import { tfjsEngine } from './fixtures.js';

test('flipped faces keep their labels on the mirrored features, left still on the image right', () => {
  const faces = generateFaces({ count: 16, seed: 3, schema: 'kaggle15' });
  const outputs = kaggle15.columns.length;
  const iterator = new FlipBatchIterator({ batchSize: 16, flipPairs: kaggle15.columnFlipPairs });
  const context = { epoch: 1, inputShape: [1, IMAGE_SIZE, IMAGE_SIZE], outputSize: outputs, seed: 5 };
  const [batch] = [...iterator.batches(faces.images, faces.targets, undefined, context)];
  const flipped = new Set(iterator.flippedSamples(16, { ...context, batchIndex: 0, effectiveSeed: 5 }));
  assert.equal(flipped.size, 8);
  const partner = new Map<number, number>();
  for (const [a, b] of kaggle15.columnFlipPairs) partner.set(a, b).set(b, a);
  // The pixel a point lies on: pixel centres are at integers (the crop rule), so the nearest one.
  const pixel = (images: Float32Array, n: number, x: number, y: number) =>
    images[n * IMAGE_SIZE * IMAGE_SIZE + Math.round(y) * IMAGE_SIZE + Math.round(x)];
  let checked = 0;
  for (let n = 0; n < 16; n++) {
    const row = batch.rows[n];
    const y = (c: number) => batch.y![n * outputs + c];
    // left_eye_center_x (column 0) is on the image's right of right_eye_center_x (column 2), flipped or not.
    assert.ok(y(0) > y(2), `sample ${n}: left eye x ${y(0)} vs right eye x ${y(2)}`);
    if (!flipped.has(n)) continue;
    for (let k = 0; k < outputs; k += 2) {
      const source = partner.get(k) ?? k;
      const x0 = unscaleTarget(faces.targets[row * outputs + source]);
      const y0 = unscaleTarget(faces.targets[row * outputs + source + 1]);
      // Points on a pixel edge (x.5) lie on two pixels; skip them.
      if (Number.isNaN(x0) || x0 - Math.floor(x0) === 0.5 || y0 - Math.floor(y0) === 0.5) continue;
      // The keypoint's new position in the mirrored image shows the pixel it sat on before.
      assert.equal(
        pixel(batch.x, n, unscaleTarget(y(k)), unscaleTarget(y(k + 1))),
        pixel(faces.images, row, x0, y0),
      );
      checked++;
    }
  }
  assert.ok(checked > 100, `checked ${checked} keypoints`);
});

test('net1 with flips learns generated faces: validation RMSE in pixels goes down', async () => {
  const faces = generateFaces({ count: 160, seed: 4, schema: 'kaggle15' });
  const net = new NeuralNet(
    presetNetOptions('net1', {
      outputs: kaggle15.columns.length,
      engine: await tfjsEngine(),
      maxEpochs: 12,
      batchIteratorTrain: new FlipBatchIterator({
        batchSize: 32,
        shuffle: true,
        flipPairs: kaggle15.columnFlipPairs,
        imageShape: [1, IMAGE_SIZE, IMAGE_SIZE],
      }),
    }),
  );
  await net.fit(faces.images, faces.targets);
  const first = rmseInPixels(net.trainHistory[0].validLoss);
  const best = Math.min(...net.trainHistory.map((r) => rmseInPixels(r.validLoss)));
  assert.ok(best < first * 0.7, `valid RMSE ${first.toFixed(2)} px -> best ${best.toFixed(2)} px`);
});
