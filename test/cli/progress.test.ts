import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EpochProgress } from '../../src/cli/progress.js';
import type { NeuralNet } from '../../src/train/neural-net.js';

const net = { batchIteratorTrain: { batchSize: 10 } } as unknown as NeuralNet;

test('piped output gets plain progress lines, sized from the training rows, and none for the last batch', () => {
  let out = '';
  const progress = new EpochProgress({ stream: { write: (t: string) => (out += t) }, plainEvery: 0 });
  progress.setTrainRows(35); // 4 batches of 10
  for (let b = 0; b < 4; b++)
    progress.onBatchFinished(net, [], { epoch: 3, batchIndex: b, loss: 0.5 / (b + 1), size: 10 });
  progress.onEpochFinished();
  assert.deepEqual(out.trimEnd().split('\n'), [
    '  epoch 3: 1/4 batches, loss 0.500000, 0s',
    '  epoch 3: 2/4 batches, loss 0.250000, 0s',
    '  epoch 3: 3/4 batches, loss 0.166667, 0s',
  ]);
});

test('fast epochs stay quiet when piped (lines only every plainEvery seconds)', () => {
  let out = '';
  const progress = new EpochProgress({ stream: { write: (t: string) => (out += t) }, trainRows: 100 });
  for (let b = 0; b < 10; b++)
    progress.onBatchFinished(net, [], { epoch: 1, batchIndex: b, loss: 0.1, size: 10 });
  assert.equal(out, '');
});
