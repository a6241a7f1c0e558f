/**
 * What a long run does once per step or per epoch must not grow with the
 * run (issue 11; bench/soak.ts measures the memory of a 10,000-step run).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_POINTS_PER_CURVE, lossCurvesSpec } from '../../src/plot/loss-curves.js';
import { BatchIterator } from '../../src/train/batch-iterator.js';
import { makeEpochRecord, type EpochRecord } from '../../src/train/history.js';

test('the training loop reuses two alternating pairs of batch arrays for every full batch', () => {
  const inputSize = 6;
  const X = Float32Array.from({ length: 10 * inputSize }, (_, i) => i);
  const y = Float32Array.from({ length: 10 * 2 }, (_, i) => -i);
  const iterator = new BatchIterator({ batchSize: 2, shuffle: true, seed: 3 });
  const context = { epoch: 2, inputShape: [inputSize], outputSize: 2, seed: 1 };
  const fresh = [...iterator.batches(X, y, undefined, context)].map((b) => ({
    rows: b.rows,
    x: b.x.slice(),
    y: b.y!.slice(),
  }));
  const arrays: Float32Array[] = [];
  let index = 0;
  for (const batch of iterator.batches(X, y, undefined, { ...context, reuseBuffers: true })) {
    // Same rows and values as fresh copies; the trainer cuts one batch ahead, so a batch's arrays
    // must not be the next batch's.
    assert.deepEqual(batch.rows, fresh[index].rows);
    assert.deepEqual(batch.x, fresh[index].x);
    assert.deepEqual(batch.y, fresh[index].y);
    if (index > 0) assert.notEqual(batch.x, arrays[index - 1], 'the next batch has its own arrays');
    arrays.push(batch.x);
    index++;
  }
  assert.equal(index, 5);
  assert.equal(new Set(arrays).size, 2, 'two x arrays for the five full batches');
});

test('an epoch record of a run of 500,000 epochs is made without copying the history (no argument-count limit)', () => {
  const history: EpochRecord[] = [];
  for (let epoch = 1; epoch <= 500_000; epoch++) {
    history.push({
      epoch,
      trainLoss: 1 / epoch,
      validLoss: epoch % 2 ? Number.NaN : 2 / epoch,
      trainLossBest: true,
      validLossBest: epoch % 2 === 0,
      trainValRatio: 1,
      dur: 0,
    });
  }
  const next = makeEpochRecord(history, { trainLoss: 1e-7, validLoss: 1e-3, dur: 0.1 });
  assert.equal(next.epoch, 500_001);
  assert.equal(next.trainLossBest, true);
  assert.equal(next.validLossBest, false);
});

interface CurveRow {
  split: string;
  epoch: number;
}

test('the loss curves of a 10,000-epoch run draw at most 300 points a curve, keeping the ends and the minimum', () => {
  const history = Array.from({ length: 10_000 }, (_, i) => ({
    epoch: i + 1,
    trainLoss: 1 / (i + 1) + (i === 4321 ? -1e-4 : 0.001),
    validLoss: 2 / (i + 1) + 0.002,
  }));
  history[7777].validLoss = 1e-6;
  const spec = lossCurvesSpec([{ label: 'long', history }]) as { data: { values: CurveRow[] } };
  const rows = spec.data.values;
  for (const split of ['train', 'valid'] as const) {
    const epochs = rows.filter((r) => r.split === split).map((r) => r.epoch);
    assert.ok(
      epochs.length <= MAX_POINTS_PER_CURVE && epochs.length >= MAX_POINTS_PER_CURVE - 2,
      `${epochs.length}`,
    );
    assert.deepEqual([epochs[0], epochs[epochs.length - 1]], [1, 10_000]);
    assert.deepEqual(
      epochs,
      [...epochs].sort((a, b) => a - b),
    );
  }
  assert.ok(rows.some((r) => r.split === 'valid' && r.epoch === 7778));
});
