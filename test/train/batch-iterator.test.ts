import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { BatchIterator, type BatchContext } from '../../src/train/batch-iterator.js';

const context = (epoch: number): BatchContext => ({ epoch, inputShape: [3], outputSize: 2, seed: 7 });

function rowsData(count: number): { X: Float32Array; y: Float32Array } {
  const X = Float32Array.from({ length: count * 3 }, (_, i) => Math.floor(i / 3) * 10 + (i % 3));
  const y = Float32Array.from({ length: count * 2 }, (_, i) => Math.floor(i / 2) * 100 + (i % 2));
  return { X, y };
}

test('batches cover every row once, in order, with a smaller last batch', () => {
  const { X, y } = rowsData(10);
  const batches = [...new BatchIterator({ batchSize: 4 }).batches(X, y, undefined, context(1))];
  assert.deepEqual(
    batches.map((b) => [...b.rows]),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
  );
  assert.deepEqual([...batches[2].x], [80, 81, 82, 90, 91, 92]);
  assert.deepEqual([...batches[2].y!], [800, 801, 900, 901]);
});

test('shuffling is seeded per epoch: same epoch same order, other epoch other order', () => {
  const { X, y } = rowsData(50);
  const iterator = new BatchIterator({ batchSize: 16, shuffle: true });
  const order = (epoch: number) =>
    [...iterator.batches(X, y, undefined, context(epoch))].flatMap((b) => [...b.rows]);
  assert.deepEqual(order(3), order(3));
  assert.notDeepEqual(order(3), order(4));
  assert.deepEqual(
    [...order(3)].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  const own = new BatchIterator({ batchSize: 16, shuffle: true, seed: 99 });
  assert.notDeepEqual(
    [...own.batches(X, y, undefined, context(3))].flatMap((b) => [...b.rows]),
    order(3),
  );
});

test('a subset of rows is iterated and batches are copies the transform may change', () => {
  const { X, y } = rowsData(6);
  const original = { X: X.slice(), y: y.slice() };
  const seen: number[] = [];
  const iterator = new BatchIterator({
    batchSize: 2,
    transform: (xb, yb, ctx) => {
      seen.push(ctx.batchIndex);
      xb.fill(-1);
      return { x: xb, y: yb };
    },
  });
  const batches = [...iterator.batches(X, y, Int32Array.from([5, 1, 3]), context(1))];
  assert.deepEqual(
    batches.map((b) => [...b.rows]),
    [[5, 1], [3]],
  );
  assert.deepEqual(seen, [0, 1]);
  assert.ok(
    batches.every((b) => b.x.every((v) => v === -1)),
    'the transform filled the batches',
  );
  // Rows 5, 1 and 3 were batched and their batches overwritten: the source arrays are as they were.
  assert.deepEqual(X, original.X, 'the source rows are untouched');
  assert.deepEqual(y, original.y);
  assert.equal(iterator.toConfig(), undefined, 'a function transform cannot be saved');
  assert.deepEqual(new BatchIterator({ batchSize: 2 }).toConfig(), {
    type: 'BatchIterator',
    batchSize: 2,
    shuffle: false,
    seed: undefined,
  });
});

test('bad batch sizes are refused', () => {
  assert.throws(() => new BatchIterator({ batchSize: 0 }), ConfigError);
  assert.throws(() => new BatchIterator({ batchSize: 1.5 }), ConfigError);
});
