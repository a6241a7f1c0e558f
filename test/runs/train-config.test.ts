import assert from 'node:assert/strict';
import { test } from 'node:test';

import { kaggle15 } from '../../src/data/schemas.js';
import { ConfigError, ShapeError } from '../../src/errors.js';
import { checkConfigInput, resolveTrainConfig } from '../../src/runs/train-config.js';
import { flipPairsFor, selectTrainingData, trainingRows } from '../../src/runs/train-run.js';

const data = { source: 'synthetic:10', masked: false };

test('a preset fills in its net, schedules, flips and patience', () => {
  const net4 = resolveTrainConfig({ preset: 'net4', data });
  assert.equal(net4.maxEpochs, 1000);
  assert.deepEqual(net4.learningRate, { start: 0.03, stop: 0.0001 });
  assert.deepEqual(net4.momentum, { start: 0.9, stop: 0.999 });
  assert.equal(net4.flip, false);
  assert.equal(net4.patience, null);
  assert.equal(net4.layers.layers.at(-1)!.kind, 'dense');
  const net7 = resolveTrainConfig({ preset: 'net7', data, schema: 'ibug68' });
  assert.equal(net7.patience, 200);
  assert.equal(net7.flip, true);
  assert.equal(net7.columns.length, 136);
  assert.deepEqual(resolveTrainConfig({ data }).preset, 'net1');
  assert.equal(resolveTrainConfig({ preset: 'net1', data, maxEpochs: 5, seed: 3 }).seed, 3);
});

test('config files are checked key by key, naming the file', () => {
  assert.throws(() => checkConfigInput({ maxEpoch: 3 }, 'a.json'), /a\.json: unknown setting "maxEpoch"/);
  assert.throws(
    () => checkConfigInput({ maxEpochs: 0 }, 'a.json'),
    /"maxEpochs" must be a whole number >= 1, got 0/,
  );
  assert.throws(() => checkConfigInput({ learningRate: 0.1 }, 'a.json'), /"learningRate" must be \{ "start"/);
  assert.throws(
    () => checkConfigInput({ engine: 'gpu' }, 'a.json'),
    /"engine" must be auto or native or tfjs/,
  );
  assert.throws(() => checkConfigInput([], 'a.json'), ConfigError);
  assert.throws(
    () =>
      checkConfigInput(
        {
          layers: [
            { kind: 'input', shape: [9216] },
            { kind: 'conv2d', filters: 3, kernelSize: 3 },
          ],
        },
        'b.json',
      ),
    ShapeError,
  );
  assert.deepEqual(checkConfigInput({ preset: 'net2', flip: true, patience: null }, 'c.json'), {
    preset: 'net2',
    flip: true,
    patience: null,
  });
});

test('a net whose outputs do not fit the columns, or an unknown preset, is refused', () => {
  const layers = {
    layers: [
      { kind: 'input' as const, shape: [9216] },
      { kind: 'dense' as const, units: 4 },
    ],
  };
  assert.throws(() => resolveTrainConfig({ layers, data }), /4 outputs but 30 target columns/);
  assert.equal(resolveTrainConfig({ layers, data, columns: kaggle15.columns.slice(0, 4) }).columns.length, 4);
  assert.throws(() => resolveTrainConfig({ preset: 'net8', data }), /unknown preset 'net8'/);
  assert.throws(() => resolveTrainConfig({ preset: 'net1' }), /no training data/);
});

test('training rows: complete rows of the chosen columns, or all with masked', () => {
  const targets = new Float32Array(3 * 30).fill(0.1);
  targets[20] = Number.NaN; // row 0 lacks nose_tip_x
  targets[30 + 0] = Number.NaN; // row 1 lacks left_eye_center_x
  const dataset = {
    schema: kaggle15,
    count: 3,
    images: new Float32Array(3 * 9216),
    targets,
    ids: ['a', 'b', 'c'],
  };
  assert.deepEqual(trainingRows(dataset, kaggle15.columns, false), [2]);
  assert.deepEqual(trainingRows(dataset, ['nose_tip_x', 'nose_tip_y'], false), [1, 2]);
  assert.deepEqual(trainingRows(dataset, kaggle15.columns, true), [0, 1, 2]);
  const picked = selectTrainingData(dataset, ['nose_tip_x', 'nose_tip_y'], false);
  assert.equal(picked.count, 2);
  assert.equal(picked.targets.length, 4);
  assert.throws(
    () => trainingRows({ ...dataset, images: new Float32Array(0) }, kaggle15.columns, false),
    /no images/,
  );
  const empty = { ...dataset, targets: new Float32Array(3 * 30).fill(Number.NaN) };
  assert.throws(
    () => trainingRows(empty, kaggle15.columns, false),
    /no row has all of its targets present: use --masked/,
  );
});

test("a group's flip pairs are the schema's pairs inside it, renumbered", () => {
  assert.deepEqual(flipPairsFor('kaggle15', kaggle15.columns), kaggle15.columnFlipPairs);
  const brows = [
    'left_eyebrow_inner_end',
    'left_eyebrow_outer_end',
    'right_eyebrow_inner_end',
    'right_eyebrow_outer_end',
  ];
  assert.deepEqual(
    flipPairsFor(
      'kaggle15',
      brows.flatMap((k) => [`${k}_x`, `${k}_y`]),
    ),
    [
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ],
  );
});

test('the optimizer, weight decay and loss: defaults for old configs, Adam defaults, checks', () => {
  // A config.json written before Adam resolves as it trained: Nesterov, no decay, masked MSE.
  const old = resolveTrainConfig(checkConfigInput({ preset: 'net4', data }, 'config.json'));
  assert.equal(old.optimizer, 'nesterov');
  assert.equal(old.weightDecay, 0);
  assert.deepEqual(old.loss, { kind: 'mse' });
  assert.deepEqual(old.momentum, { start: 0.9, stop: 0.999 });
  const adam = resolveTrainConfig(
    checkConfigInput(
      { preset: 'net2', data, optimizer: 'adam', loss: 'smooth-l1', weightDecay: 1e-4 },
      'a.json',
    ),
  );
  assert.deepEqual(adam.learningRate, { start: 0.001, stop: 0.001 }, "Lasagne's Adam rate, not the preset's");
  assert.deepEqual(adam.beta1, { start: 0.9, stop: 0.9 });
  assert.deepEqual(adam.epsilon, { start: 1e-8, stop: 1e-8 });
  assert.equal(adam.momentum, undefined);
  assert.deepEqual(adam.loss, { kind: 'smooth-l1', beta: 1 / 48 });
  assert.throws(
    () => checkConfigInput({ optimizer: 'sgd' }, 'a.json'),
    /"optimizer" must be nesterov or adam/,
  );
  assert.throws(
    () => checkConfigInput({ beta2: { start: 1, stop: 1 } }, 'a.json'),
    /"beta2" must be a schedule of values in \[0, 1\)/,
  );
  assert.throws(() => checkConfigInput({ weightDecay: -1 }, 'a.json'), /"weightDecay" must be a number >= 0/);
  assert.throws(
    () => checkConfigInput({ loss: { kind: 'l1', beta: 2 } }, 'a.json'),
    /loss l1 has no parameter "beta"/,
  );
});
