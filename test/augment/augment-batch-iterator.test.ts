import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  AugmentBatchIterator,
  type AugmentSettings,
  drawAugmentation,
  resolveAugment,
} from '../../src/augment/augment-batch-iterator.js';
import { forwardAffine, invertAffine } from '../../src/augment/geometry.js';
import { IMAGE_SIZE, scaleTarget, unscaleTarget } from '../../src/data/scaling.js';
import { ibug68 } from '../../src/data/schemas.js';
import { ConfigError } from '../../src/errors.js';
import { presetSpec } from '../../src/nn/presets.js';
import { Rng } from '../../src/random/rng.js';
import type { BatchContext } from '../../src/train/batch-iterator.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { tfjsEngine } from '../train/fixtures.js';

const N = IMAGE_SIZE;
const PIXELS = N * N;
const NONE: AugmentSettings = {
  rotation: 0,
  scale: 0,
  shift: 0,
  mirror: false,
  brightness: 0,
  contrast: 0,
  gamma: 0,
  blur: 0,
  noise: 0,
};
const CONTEXT: BatchContext = { epoch: 3, inputShape: [1, N, N], outputSize: 4, seed: 7 };
// Two keypoints that mirror each other: columns (0, 2) and (1, 3).
const PAIRS: [number, number][] = [
  [0, 2],
  [1, 3],
];

/** A Gaussian blob (sigma 1.5 px) at frame point (px, py) of a square image `size` wide, the frame at its centre. */
function drawPoint(size: number, px: number, py: number): Float32Array {
  const image = new Float32Array(size * size);
  const off = (size - N) / 2;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      image[r * size + c] = 0.9 * Math.exp(-((c - off - px) ** 2 + (r - off - py) ** 2) / (2 * 1.5 ** 2));
    }
  }
  return image;
}

/** Where the blob is: the centroid above the background (the median), within 6 px of the brightest pixel. */
function findPoint(frame: Float32Array): [number, number] {
  let best = 0;
  for (let i = 1; i < PIXELS; i++) if (frame[i] > frame[best]) best = i;
  const background = Float32Array.from(frame).sort()[PIXELS >> 1];
  const bx = best % N;
  const by = Math.floor(best / N);
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let r = Math.max(0, by - 6); r <= Math.min(N - 1, by + 6); r++) {
    for (let c = Math.max(0, bx - 6); c <= Math.min(N - 1, bx + 6); c++) {
      const w = Math.max(0, frame[r * N + c] - background);
      sum += w;
      sx += w * c;
      sy += w * r;
    }
  }
  return [sx / sum, sy / sum];
}

/**
 * Draws a point on each of `count` samples, runs them through the iterator and
 * returns, per sample, where the pixels put the point and where the targets say it is.
 */
function followPoints(settings: Partial<AugmentSettings>, sourceSize: number, count = 12) {
  const rng = new Rng(5, 'points');
  const X = new Float32Array(count * PIXELS);
  const y = new Float32Array(count * 4);
  const sources = new Float32Array(count * sourceSize * sourceSize);
  for (let n = 0; n < count; n++) {
    const px = 28 + rng.uniform(0, 40);
    const py = 28 + rng.uniform(0, 40);
    const source = drawPoint(sourceSize, px, py);
    sources.set(source, n * sourceSize * sourceSize);
    X.set(drawPoint(N, px, py), n * PIXELS);
    // Keypoint 0 is the drawn point; keypoint 1 (its mirror partner) is elsewhere.
    y.set([scaleTarget(px), scaleTarget(py), scaleTarget(10), scaleTarget(80)], n * 4);
  }
  const iterator = new AugmentBatchIterator({
    batchSize: count,
    flipPairs: PAIRS,
    augment: { ...NONE, ...settings },
    seed: 11,
    ...(sourceSize !== N ? { source: { images: sources, size: sourceSize } } : {}),
  });
  const [batch] = [...iterator.batches(X, y, undefined, CONTEXT)];
  return Array.from({ length: count }, (_, n) => {
    const mirrored = drawAugmentation(iterator.augment, 11, CONTEXT.epoch, n).geometry.mirror;
    // After a mirror the drawn point is the partner's: its target moved to columns 2, 3.
    const k = mirrored ? 2 : 0;
    return {
      found: findPoint(batch.x.subarray(n * PIXELS, (n + 1) * PIXELS)),
      target: [unscaleTarget(batch.y![n * 4 + k]), unscaleTarget(batch.y![n * 4 + k + 1])],
      mirrored,
    };
  });
}

function assertFollows(settings: Partial<AugmentSettings>, sourceSize = N, tolerance = 0.1) {
  const results = followPoints(settings, sourceSize);
  for (const { found, target } of results) {
    const error = Math.hypot(found[0] - target[0], found[1] - target[1]);
    assert.ok(
      error < tolerance,
      `${JSON.stringify(settings)}: pixels put the point at ${found.map((v) => v.toFixed(2))}, targets at ${target.map((v) => v.toFixed(2))}`,
    );
  }
  return results;
}

test('keypoints follow the pixels under rotation, scale, shift and mirror, each alone and all together', () => {
  assertFollows({ rotation: 25 });
  assertFollows({ scale: 0.3 });
  assertFollows({ shift: 0.1 });
  const mirrored = assertFollows({ mirror: true });
  assert.ok(mirrored.some((r) => r.mirrored) && mirrored.some((r) => !r.mirrored), 'about half are mirrored');
  assertFollows({ rotation: 20, scale: 0.15, shift: 0.08, mirror: true });
  // From a wider source crop, whose central window is the frame.
  assertFollows({ rotation: 20, scale: 0.15, shift: 0.08, mirror: true }, 128);
});

test('keypoints stay put under blur, gamma, contrast, brightness and noise (and the targets do not change)', () => {
  for (const settings of [
    { blur: 1 },
    { gamma: 0.5 },
    { contrast: 0.5 },
    { brightness: 0.2 },
    { noise: 0.03 },
  ]) {
    const results = assertFollows(settings, N, settings.noise ? 0.3 : 0.1);
    for (const r of results) assert.ok(!r.mirrored);
  }
  // And the pixels did change.
  const X = drawPoint(N, 40, 50);
  const y = Float32Array.from([scaleTarget(40), scaleTarget(50), 0, 0]);
  for (const settings of [
    { blur: 1 },
    { gamma: 0.5 },
    { contrast: 0.5 },
    { brightness: 0.2 },
    { noise: 0.03 },
  ]) {
    const iterator = new AugmentBatchIterator({ flipPairs: PAIRS, augment: { ...NONE, ...settings } });
    const [batch] = [...iterator.batches(X, y, undefined, CONTEXT)];
    assert.notDeepEqual(batch.x, X, JSON.stringify(settings));
    assert.deepEqual(batch.y, y, JSON.stringify(settings));
  }
});

test('the identity settings leave images and targets as they were; the affine map inverts', () => {
  const X = drawPoint(N, 40.3, 50.7);
  const y = Float32Array.from([scaleTarget(40.3), scaleTarget(50.7), 0.1, -0.2]);
  const iterator = new AugmentBatchIterator({ flipPairs: PAIRS, augment: NONE });
  const [batch] = [...iterator.batches(X, y, undefined, CONTEXT)];
  for (let i = 0; i < PIXELS; i++) assert.ok(Math.abs(batch.x[i] - X[i]) < 1e-6);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(batch.y![i] - y[i]) < 1e-6);
  const forward = forwardAffine({ mirror: true, angle: 0.3, scale: 1.1, dx: 2, dy: -3 });
  const back = forwardAffine({ mirror: false, angle: 0, scale: 1, dx: 0, dy: 0 });
  const inverse = invertAffine(forward);
  const [a, b, c, d, e, f] = forward;
  const [ia, ib, ic, id, ie, iff] = inverse;
  const x = 12;
  const yy = 70;
  const fx = a * x + b * yy + c;
  const fy = d * x + e * yy + f;
  assert.ok(Math.abs(ia * fx + ib * fy + ic - x) < 1e-9 && Math.abs(id * fx + ie * fy + iff - yy) < 1e-9);
  assert.deepEqual(back, [1, -0, 0, 0, 1, 0]);
  // The mirror alone is the true mirror: x -> 95 - x.
  const [ma, , mc] = forwardAffine({ mirror: true, angle: 0, scale: 1, dx: 0, dy: 0 });
  assert.equal(ma * 30 + mc, 65);
});

test('augmentation is seeded and resumable: draws depend on (seed, epoch, row) only', () => {
  const count = 20;
  const rng = new Rng(3);
  const X = Float32Array.from({ length: count * PIXELS }, () => rng.next());
  const y = Float32Array.from({ length: count * 4 }, () => rng.uniform(-0.5, 0.5));
  const make = () => new AugmentBatchIterator({ batchSize: 8, shuffle: true, flipPairs: PAIRS, seed: 9 });
  const run = (iterator: AugmentBatchIterator, epoch: number) => [
    ...iterator.batches(X, y, undefined, { ...CONTEXT, epoch }),
  ];
  const first = make();
  const straight = [run(first, 1), run(first, 2), run(first, 3)];
  // A new iterator (a resumed run, rebuilt from the model file's config) sees the same epoch 3.
  const resumed = new AugmentBatchIterator({ ...first.toConfig()!, flipPairs: PAIRS });
  assert.deepEqual(run(resumed, 3), straight[2]);
  assert.notDeepEqual(
    straight[1].map((b) => b.x),
    straight[2].map((b) => b.x),
  );
  // A sample's augmentation does not depend on which batch it falls in.
  const bigBatches = new AugmentBatchIterator({ batchSize: 20, shuffle: true, flipPairs: PAIRS, seed: 9 });
  const [all] = run(bigBatches, 3);
  for (const batch of straight[2]) {
    batch.rows.forEach((row, i) => {
      const j = all.rows.indexOf(row);
      assert.deepEqual(
        batch.x.subarray(i * PIXELS, (i + 1) * PIXELS),
        all.x.subarray(j * PIXELS, (j + 1) * PIXELS),
      );
    });
  }
  // Another seed draws otherwise.
  const other = new AugmentBatchIterator({ batchSize: 8, shuffle: true, flipPairs: PAIRS, seed: 10 });
  assert.notDeepEqual(run(other, 3)[0].y, straight[2][0].y);
});

test('a net trained with augmentation saves, loads and resumes exactly', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'facepoints-augment-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rng = new Rng(4);
  const count = 24;
  const X = Float32Array.from({ length: count * PIXELS }, () => rng.next());
  const y = Float32Array.from({ length: count * ibug68.columns.length }, () => rng.uniform(-0.5, 0.5));
  const engine = await tfjsEngine();
  const options = () => ({
    layers: presetSpec('net1', ibug68.columns.length),
    engine,
    seed: 3,
    maxEpochs: 3,
    batchIteratorTrain: new AugmentBatchIterator({
      batchSize: 8,
      shuffle: true,
      flipPairs: ibug68.columnFlipPairs,
      augment: { rotation: 10 },
    }),
  });
  const straight = await new NeuralNet(options()).fit(X, y);
  const part = await new NeuralNet({ ...options(), maxEpochs: 2 }).fit(X, y);
  await part.save(join(dir, 'part.fpm'));
  const loaded = await NeuralNet.load(join(dir, 'part.fpm'), { engine, maxEpochs: 3 });
  assert.ok(loaded.batchIteratorTrain instanceof AugmentBatchIterator);
  assert.equal((loaded.batchIteratorTrain as AugmentBatchIterator).augment.rotation, 10);
  await loaded.fit(X, y);
  assert.deepEqual(
    loaded.trainHistory.map((r) => r.trainLoss),
    straight.trainHistory.map((r) => r.trainLoss),
  );
  assert.deepEqual(await loaded.predict(X), await straight.predict(X));
});

test('bad settings and sources are refused with what is wrong', () => {
  assert.throws(() => resolveAugment({ rotation: -1 }), /"rotation" must be a number in \[0, 180\]/);
  assert.throws(() => resolveAugment({ spin: 3 } as never), /unknown setting "spin"/);
  assert.throws(() => resolveAugment({ mirror: 'yes' } as never), /"mirror" must be true or false/);
  assert.throws(
    () =>
      new AugmentBatchIterator({
        flipPairs: PAIRS,
        source: { images: new Float32Array(127 * 127), size: 127 },
      }),
    ConfigError,
  );
  const iterator = new AugmentBatchIterator({ flipPairs: PAIRS });
  assert.throws(
    () => [
      ...iterator.batches(new Float32Array(16), new Float32Array(4), undefined, {
        ...CONTEXT,
        inputShape: [16],
      }),
    ],
    /96x96 grayscale input/,
  );
});
