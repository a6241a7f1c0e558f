import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scaleTarget, unscaleTarget } from '../../src/data/scaling.js';
import { ibug68, kaggle15 } from '../../src/data/schemas.js';
import { ConfigError } from '../../src/errors.js';
import { Rng } from '../../src/random/rng.js';
import type { TransformContext } from '../../src/train/batch-iterator.js';
import {
  batchIteratorFromConfig,
  checkFlipPairs,
  FlipBatchIterator,
  flipSamples,
} from '../../src/train/flip-batch-iterator.js';

const DESIGN_PAIRS: [number, number][] = [
  [0, 2],
  [1, 3],
  [4, 8],
  [5, 9],
  [6, 10],
  [7, 11],
  [12, 16],
  [13, 17],
  [14, 18],
  [15, 19],
  [22, 24],
  [23, 25],
];

function randomBatch(count: number, shape: number[], outputs: number, seed: number) {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: count * size }, () => rng.next());
  const y = Float32Array.from({ length: count * outputs }, () => rng.uniform(-1, 1));
  y[3] = NaN; // a missing target survives flips
  return { x, y };
}

test("the schema's Kaggle-15 column pairs are DESIGN.md's", () => {
  assert.deepEqual(
    [...kaggle15.columnFlipPairs]
      .map(([a, b]) => [Math.min(a, b), Math.max(a, b)])
      .sort((p, q) => p[0] - q[0]),
    DESIGN_PAIRS,
  );
});

test('flipping a batch twice gives it back', () => {
  const shape = [1, 12, 12];
  const { x, y } = randomBatch(8, shape, 30, 1);
  const x0 = Float32Array.from(x);
  const y0 = Float32Array.from(y);
  const which = [0, 2, 5, 7];
  // Bit for bit under the tutorial's rule (a negation); the true mirror is checked to float precision below.
  flipSamples(x, y, which, shape, kaggle15.columnFlipPairs, 'tutorial');
  assert.notDeepEqual(x, x0);
  assert.notDeepEqual(y, y0);
  flipSamples(x, y, which, shape, kaggle15.columnFlipPairs, 'tutorial');
  assert.deepEqual(x, x0);
  assert.deepEqual(y, y0);

  // Through the iterator: the same (seed, epoch, batch) flips the same samples.
  const iterator = new FlipBatchIterator({
    flipPairs: kaggle15.columnFlipPairs,
    seed: 3,
    mirror: 'tutorial',
  });
  const ctx: TransformContext = {
    epoch: 2,
    batchIndex: 4,
    inputShape: shape,
    outputSize: 30,
    seed: 0,
    effectiveSeed: 3,
  };
  iterator.transform(x, y, ctx);
  iterator.transform(x, y, ctx);
  assert.deepEqual(x, x0);
  assert.deepEqual(y, y0);
});

test("the tutorial's rule mirrors rows, negates x targets and swaps left/right columns", () => {
  // 1 sample, 2 channels of 2x3, 6 targets: points (x0,y0) (x1,y1) (x2,y2), points 0 and 2 mirrored.
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const y = Float32Array.from([0.5, 0.1, 0.0, 0.2, -0.3, 0.4]);
  flipSamples(
    x,
    y,
    [0],
    [2, 2, 3],
    [
      [0, 4],
      [1, 5],
    ],
    'tutorial',
  );
  assert.deepEqual([...x], [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
  assert.deepEqual([...y], [0.3, 0.4, -0, 0.2, -0.5, 0.1].map(Math.fround));
});

test('the true mirror (the default) sends a point drawn on pixel x to pixel 95 - x, where its pixels go', () => {
  const shape = [1, 96, 96];
  for (const px of [0, 10, 30.25, 47.5, 66, 95]) {
    const x = new Float32Array(96 * 96);
    // A point between pixel centres is drawn as two weighted pixels; its centroid is px.
    const left = Math.floor(px);
    const f = px - left;
    x[40 * 96 + left] = 1 - f;
    if (f > 0) x[40 * 96 + left + 1] = f;
    const y = Float32Array.from([scaleTarget(px), scaleTarget(40), 0, 0]);
    flipSamples(x, y, [0], shape, [
      [0, 2],
      [1, 3],
    ]);
    let sum = 0;
    let weighted = 0;
    for (let i = 0; i < 96; i++) {
      sum += x[40 * 96 + i];
      weighted += i * x[40 * 96 + i];
    }
    const found = weighted / sum;
    assert.ok(Math.abs(found - (95 - px)) < 1e-5, `pixel centroid ${found}, expected ${95 - px}`);
    // The point moved with its pixels (and to the pair's other column).
    assert.ok(Math.abs(unscaleTarget(y[2]) - found) < 1e-4, `target ${unscaleTarget(y[2])} vs ${found}`);
    assert.ok(Math.abs(unscaleTarget(y[3]) - 40) < 1e-5);
  }
  // The tutorial's rule lands 1 px to the right of the pixels.
  const y = Float32Array.from([scaleTarget(30), scaleTarget(40)]);
  flipSamples(new Float32Array(96 * 96), y, [0], shape, [], 'tutorial');
  assert.ok(Math.abs(unscaleTarget(y[0]) - 66) < 1e-4);
});

test('under the true mirror, flip with pair swap is its own inverse on every schema', () => {
  for (const schema of [kaggle15, ibug68]) {
    const shape = [1, 96, 96];
    const { x, y } = randomBatch(6, shape, schema.columns.length, 5);
    const x0 = Float32Array.from(x);
    const y0 = Float32Array.from(y);
    flipSamples(x, y, [0, 1, 4], shape, schema.columnFlipPairs);
    assert.notDeepEqual(y, y0);
    flipSamples(x, y, [0, 1, 4], shape, schema.columnFlipPairs);
    assert.deepEqual(x, x0);
    for (let i = 0; i < y.length; i++) {
      if (Number.isNaN(y0[i])) assert.ok(Number.isNaN(y[i]));
      else assert.ok(Math.abs(y[i] - y0[i]) < 1e-6, `column ${i % schema.columns.length}`);
    }
  }
});

test('a model file from before the mirror rule was recorded resumes with the tutorial rule', () => {
  const old = batchIteratorFromConfig({
    type: 'FlipBatchIterator',
    batchSize: 128,
    shuffle: true,
    flipPairs: [[0, 2]],
  }) as FlipBatchIterator;
  assert.equal(old.mirror, 'tutorial');
  const current = new FlipBatchIterator({ flipPairs: [[0, 2]] });
  assert.equal(current.mirror, 'exact');
  const again = batchIteratorFromConfig(current.toConfig()!) as FlipBatchIterator;
  assert.equal(again.mirror, 'exact');
  assert.throws(() => new FlipBatchIterator({ flipPairs: [], mirror: 'left' as never }), /exact, tutorial/);
});

test('the iterator flips a seeded random half of each batch, differently per batch and epoch', () => {
  const shape = [1, 4, 4];
  const { x, y } = randomBatch(20, shape, 30, 2);
  const iterator = new FlipBatchIterator({ batchSize: 10, flipPairs: kaggle15.columnFlipPairs });
  const context = { epoch: 1, inputShape: shape, outputSize: 30, seed: 11 };
  const batches = [...iterator.batches(x, y, undefined, context)];
  const flipped = batches.map(
    (b) =>
      Array.from({ length: 10 }, (_, i) => b.x[i * 16] !== x[(b.rows[i] * 16) as number]).filter(Boolean)
        .length,
  );
  // Rows are random in [0, 1), so a mirrored row's first pixel differs from the original's.
  assert.deepEqual(flipped, [5, 5]);
  const which = (epoch: number, batchIndex: number) => [
    ...iterator.flippedSamples(10, { ...context, epoch, batchIndex, effectiveSeed: 11 }),
  ];
  assert.deepEqual(which(1, 0), which(1, 0));
  assert.notDeepEqual(which(1, 0), which(1, 1));
  assert.notDeepEqual(which(1, 0), which(2, 0));
  assert.equal(which(1, 0).length, 5);
});

test('bad flip pairs and flat inputs are refused with what is wrong', () => {
  assert.throws(() => checkFlipPairs([[0, 1]]), /x columns \(even\)/);
  assert.throws(
    () =>
      checkFlipPairs([
        [0, 2],
        [2, 4],
      ]),
    /already in another pair/,
  );
  assert.throws(() => checkFlipPairs([[0, 40]], 30), /only 30 target columns/);
  const iterator = new FlipBatchIterator({ flipPairs: [[0, 2]] });
  const ctx: TransformContext = {
    epoch: 1,
    batchIndex: 0,
    inputShape: [16],
    outputSize: 4,
    seed: 0,
    effectiveSeed: 0,
  };
  assert.throws(() => iterator.transform(new Float32Array(32), new Float32Array(8), ctx), ConfigError);
  const withShape = new FlipBatchIterator({ flipPairs: [[0, 2]], imageShape: [1, 4, 4] });
  assert.doesNotThrow(() => withShape.transform(new Float32Array(32), new Float32Array(8), ctx));
});
