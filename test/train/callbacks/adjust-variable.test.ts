import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { AdjustVariable, linspace } from '../../../src/train/callbacks/adjust-variable.js';
import { makeEpochRecord, type EpochRecord } from '../../../src/train/history.js';
import { NeuralNet } from '../../../src/train/neural-net.js';

const layers = [
  { kind: 'input' as const, shape: [2] },
  { kind: 'dense' as const, units: 1 },
];

/** The values a schedule sets at the end of each epoch of a run of maxEpochs. */
function scheduleValues(callback: AdjustVariable, maxEpochs: number, variable: string): number[] {
  const net = new NeuralNet({ layers, maxEpochs });
  const history: EpochRecord[] = [];
  const values: number[] = [];
  for (let e = 1; e <= maxEpochs; e++) {
    history.push(makeEpochRecord(history, { trainLoss: 1, validLoss: 1, dur: 0 }));
    callback.onEpochFinished(net, history);
    values.push(net.variables[variable]);
  }
  return values;
}

test('linspace matches numpy, by hand', () => {
  assert.deepEqual(linspace(0.03, 0.0001, 1), [0.03]);
  assert.deepEqual(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(linspace(0.9, 0.999, 2), [0.9, 0.999]);
});

test('AdjustVariable sets float32(linspace(start, stop, maxEpochs)[e-1]) at the end of epoch e', () => {
  // Hand-computed: step = (0.0001 - 0.03) / 4 = -0.007475.
  const expected = [0.03, 0.022525, 0.01505, 0.007575, 0.0001].map(Math.fround);
  const values = scheduleValues(
    new AdjustVariable('updateLearningRate', 0.03, 0.0001),
    5,
    'updateLearningRate',
  );
  values.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) < 1e-9, `epoch ${i + 1}: ${v} vs ${expected[i]}`),
  );
  assert.equal(values[4], Math.fround(0.0001));
  // nolearn's snake_case name works the same.
  const momentum = scheduleValues(new AdjustVariable('update_momentum', 0.9, 0.999), 4, 'updateMomentum');
  assert.deepEqual(momentum, [0.9, 0.933, 0.966, 0.999].map(Math.fround));
  // maxEpochs 1: linspace of one value is start.
  assert.deepEqual(
    scheduleValues(new AdjustVariable('updateLearningRate', 0.03, 0.0001), 1, 'updateLearningRate'),
    [Math.fround(0.03)],
  );
});

test('the schedule depends only on the epoch (resumable) and holds stop past maxEpochs', () => {
  const schedule = new AdjustVariable('updateLearningRate', 0.03, 0.0001);
  assert.equal(schedule.valueAt(3, 5), Math.fround(0.01505));
  assert.equal(schedule.valueAt(9, 5), Math.fround(0.0001));
  const net = new NeuralNet({ layers, maxEpochs: 5 });
  assert.throws(
    () =>
      new AdjustVariable('learning_rate').onEpochFinished(net, [
        makeEpochRecord([], { trainLoss: 1, validLoss: 1, dur: 0 }),
      ]),
    ConfigError,
  );
});
