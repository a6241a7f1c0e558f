import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { PRESET_NAMES, TUTORIAL_PRESET_NAMES, presetSpec, presetTraining } from '../../src/nn/presets.js';
import { resolveSpec } from '../../src/nn/spec.js';
import { AugmentBatchIterator, DEFAULT_AUGMENT } from '../../src/augment/augment-batch-iterator.js';
import { ibug68, kaggle15 } from '../../src/data/schemas.js';
import { resolveTrainConfig } from '../../src/runs/train-config.js';
import { presetNetOptions } from '../../src/train/preset-options.js';
import { FlipBatchIterator, flipSamples } from '../../src/train/flip-batch-iterator.js';
import { AdjustVariable, EarlyStopping } from '../../src/train/callbacks/index.js';

test('every preset resolves for 30 (Kaggle-15) and 136 (iBUG-68) outputs', () => {
  for (const name of PRESET_NAMES) {
    for (const outputs of [30, 136]) {
      const spec = resolveSpec(presetSpec(name, outputs));
      assert.equal(spec.outputSize, outputs, `${name}/${outputs}`);
      assert.equal(spec.inputSize, 96 * 96);
    }
  }
  assert.deepEqual(resolveSpec(presetSpec('net1', 30)).inputShape, [9216]);
  assert.deepEqual(resolveSpec(presetSpec('net2', 30)).inputShape, [1, 96, 96]);
});

test('layers carry the tutorial names and shapes', () => {
  const net6 = resolveSpec(presetSpec('net6', 30));
  assert.deepEqual(
    net6.layers.map((l) => l.name),
    [
      'input',
      'conv1',
      'pool1',
      'dropout1',
      'conv2',
      'pool2',
      'dropout2',
      'conv3',
      'pool3',
      'dropout3',
      'hidden4',
      'dropout4',
      'hidden5',
      'output',
    ],
  );
  // The tutorial's dropout: 0.1 / 0.2 / 0.3 after the pools, 0.5 after hidden4 only.
  for (const name of ['net6', 'net7'] as const) {
    const spec = resolveSpec(presetSpec(name, 30));
    assert.deepEqual(
      spec.layers.filter((l) => l.kind === 'dropout').map((l) => [l.name, (l as { rate: number }).rate]),
      [
        ['dropout1', 0.1],
        ['dropout2', 0.2],
        ['dropout3', 0.3],
        ['dropout4', 0.5],
      ],
      name,
    );
    const names = spec.layers.map((l) => l.name);
    assert.equal(
      names[names.indexOf('hidden5') + 1],
      'output',
      `${name}: nothing between hidden5 and output`,
    );
  }
  // net6 without its dropout layers is net5, layer for layer.
  assert.deepEqual(
    presetSpec('net6', 30).layers.filter((l) => l.kind !== 'dropout'),
    presetSpec('net5', 30).layers,
  );
  const net2 = resolveSpec(presetSpec('net2', 30));
  assert.deepEqual(net2.layers.find((l) => l.name === 'pool3')!.outputShape, [128, 11, 11]);
  assert.deepEqual(net2.layers.find((l) => l.name === 'hidden4')!.params[0].shape, [128 * 11 * 11, 500]);
  const net7 = resolveSpec(presetSpec('net7', 30));
  for (const hidden of ['hidden4', 'hidden5'])
    assert.equal((net7.layers.find((l) => l.name === hidden) as { units: number }).units, 1000, hidden);
  assert.throws(() => presetSpec('net8', 30), ConfigError);
  assert.throws(() => presetSpec('net2', 0), ConfigError);
});

test('training setups: constant for net1-3, schedules from net4, flips for net3/5/6/7', () => {
  assert.deepEqual(presetTraining('net2'), {
    maxEpochs: 1000,
    learningRate: { start: 0.01, stop: 0.01 },
    momentum: { start: 0.9, stop: 0.9 },
    flip: false,
  });
  assert.deepEqual(presetTraining('net4').learningRate, { start: 0.03, stop: 0.0001 });
  assert.deepEqual(presetTraining('net4').momentum, { start: 0.9, stop: 0.999 });
  assert.deepEqual(
    TUTORIAL_PRESET_NAMES.map((n) => presetTraining(n).flip),
    [false, false, true, false, true, true, true],
  );
  // net7 is kfkd.py's final recipe: flips, both schedules, early stopping with patience 200, 3000 epochs.
  assert.deepEqual(presetTraining('net7'), {
    maxEpochs: 3000,
    learningRate: { start: 0.03, stop: 0.0001 },
    momentum: { start: 0.9, stop: 0.999 },
    flip: true,
    earlyStoppingPatience: 200,
  });
  assert.equal(presetTraining('net6').maxEpochs, 3000);

  const options = presetNetOptions('net7', { outputs: 30, flipPairs: kaggle15.columnFlipPairs });
  assert.ok(options.batchIteratorTrain instanceof FlipBatchIterator);
  assert.deepEqual(
    options.callbacks!.map((c) => c.constructor),
    [AdjustVariable, AdjustVariable, EarlyStopping],
  );
  assert.equal(options.updateLearningRate, 0.03);
  assert.throws(() => presetNetOptions('net3', { outputs: 30 }), /flipPairs/);
  assert.equal(presetNetOptions('net2', { outputs: 30 }).callbacks!.length, 0);
});

test("net1..net7 keep the tutorial's flips when asked (mirror: 'tutorial'); the true mirror is the default", () => {
  for (const name of TUTORIAL_PRESET_NAMES) {
    const tutorial = presetNetOptions(name, {
      outputs: 30,
      flipPairs: kaggle15.columnFlipPairs,
      mirror: 'tutorial',
    });
    const plain = presetNetOptions(name, { outputs: 30, flipPairs: kaggle15.columnFlipPairs });
    const iterator = tutorial.batchIteratorTrain;
    assert.equal(iterator instanceof FlipBatchIterator, presetTraining(name).flip, name);
    if (!(iterator instanceof FlipBatchIterator)) {
      assert.equal(plain.batchIteratorTrain, undefined, `${name} trains without flips`);
      continue;
    }
    assert.equal(iterator.mirror, 'tutorial');
    assert.equal((plain.batchIteratorTrain as FlipBatchIterator).mirror, 'exact');
    // The tutorial's arithmetic: a flipped sample's x targets are negated, nothing more.
    const y = Float32Array.from({ length: 30 }, (_, i) => (i % 7) / 10 - 0.3);
    const flipped = Float32Array.from(y);
    flipSamples(new Float32Array(96 * 96), flipped, [0], [1, 96, 96], [], iterator.mirror);
    for (let c = 0; c < 30; c++) assert.equal(flipped[c], c % 2 === 0 ? Math.fround(-y[c]) : y[c]);
    // And the layers and schedules do not depend on the mirror rule.
    assert.deepEqual(tutorial.layers, plain.layers);
    assert.equal(tutorial.maxEpochs, plain.maxEpochs);
  }
});

test('conv8-bn-heatmap: eight batch-normed convolutions down to 128 x 12 x 12, a heatmap per keypoint, soft-argmax', () => {
  const spec = resolveSpec(presetSpec('conv8-bn-heatmap', 136));
  const convs = spec.layers.filter((l) => l.kind === 'conv2d');
  assert.equal(convs.length, 9);
  assert.deepEqual(
    convs.map((l) => l.outputShape[1]),
    [48, 48, 24, 24, 12, 12, 12, 12, 12],
  );
  assert.deepEqual(convs.at(-1)!.outputShape, [68, 12, 12]);
  assert.equal(spec.layers.filter((l) => l.kind === 'batchnorm').length, 8);
  assert.equal(spec.layers.at(-1)!.kind, 'softargmax');
  assert.equal(spec.outputSize, 136);
  assert.ok(!spec.layers.some((l) => l.kind === 'dense'), 'no dense head');
  assert.deepEqual(resolveSpec(presetSpec('conv8-bn-heatmap', 30)).layers.at(-2)!.outputShape, [15, 12, 12]);
  assert.throws(() => presetSpec('conv8-bn-heatmap', 31), /x, y pairs.*even number of outputs, got 31/);
  // The recipe of conv8-bn-aug, but the head has no bias to start at the mean shape.
  const training = presetTraining('conv8-bn-heatmap');
  assert.deepEqual({ ...training, outputBias: 'meanTargets' }, presetTraining('conv8-bn-aug'));
  assert.equal(training.outputBias, undefined);
  const options = presetNetOptions('conv8-bn-heatmap', { outputs: 136, flipPairs: ibug68.columnFlipPairs });
  assert.ok(options.batchIteratorTrain instanceof AugmentBatchIterator);
  assert.equal(options.update, 'adam');
  assert.equal(options.outputBias ?? 'zeros', 'zeros');
  const config = resolveTrainConfig({
    preset: 'conv8-bn-heatmap',
    schema: 'ibug68',
    data: { source: 'x.csv', masked: false },
  });
  assert.equal(config.outputBias, 'zeros');
  assert.deepEqual(config.augment, { ...DEFAULT_AUGMENT, mirror: false });
  assert.equal(config.maxEpochs, 150);
});

test('conv8-bn-aug: eight batch-normed 3x3 convolutions down to 256 x 6 x 6, Adam, the wing loss, augmentation', () => {
  const spec = resolveSpec(presetSpec('conv8-bn-aug', 136));
  const convs = spec.layers.filter((l) => l.kind === 'conv2d');
  assert.equal(convs.length, 8);
  assert.deepEqual(
    convs.map((l) => l.outputShape[1]),
    [48, 48, 24, 24, 12, 12, 6, 6],
  );
  assert.deepEqual(convs.at(-1)!.outputShape, [256, 6, 6]);
  assert.equal(spec.layers.filter((l) => l.kind === 'batchnorm').length, 8);
  assert.equal(spec.outputSize, 136);
  assert.equal(resolveSpec(presetSpec('conv8-bn-aug', 30)).outputSize, 30);
  // The untrained net predicts the mean shape: zero output weights, the bias set from the training targets.
  assert.equal((spec.layers.at(-1) as { init?: string }).init, 'zeros');
  const training = presetTraining('conv8-bn-aug');
  assert.equal(training.outputBias, 'meanTargets');
  assert.equal(training.optimizer, 'adam');
  assert.deepEqual(training.loss, { kind: 'wing' });
  const options = presetNetOptions('conv8-bn-aug', { outputs: 136, flipPairs: ibug68.columnFlipPairs });
  assert.ok(options.batchIteratorTrain instanceof AugmentBatchIterator);
  assert.equal(options.batchIteratorTrain.batchSize, 64);
  assert.equal(options.update, 'adam');
  assert.equal(options.outputBias, 'meanTargets');
  assert.deepEqual(options.loss, { kind: 'wing' });
  assert.equal(options.updateLearningRate, 0.001);
  // Adam has no momentum to schedule: only the learning rate's AdjustVariable.
  assert.deepEqual(
    options.callbacks!.map((c) => c.constructor),
    [AdjustVariable],
  );
  assert.throws(() => presetNetOptions('conv8-bn-aug', { outputs: 136 }), /augmentation: pass flipPairs/);
  // Through a run config: Adam with the preset's rate schedule, the wing loss, batches of 64, augmentation on.
  const config = resolveTrainConfig({
    preset: 'conv8-bn-aug',
    schema: 'ibug68',
    data: { source: 'x.csv', masked: false },
  });
  assert.equal(config.optimizer, 'adam');
  assert.deepEqual(config.learningRate, { start: 0.001, stop: 0.00001 });
  assert.equal(config.loss.kind, 'wing');
  assert.equal(config.batchSize, 64);
  // Every transform but the mirror: these labels are not mirror-symmetric (docs/accuracy.md).
  assert.deepEqual(config.augment, { ...DEFAULT_AUGMENT, mirror: false });
  assert.equal(config.flip, false);
  // What a config says wins over the preset's recipe.
  const mine = resolveTrainConfig({
    preset: 'conv8-bn-aug',
    optimizer: 'nesterov',
    loss: { kind: 'mse' },
    batchSize: 128,
    augment: false,
    schema: 'ibug68',
    data: { source: 'x.csv', masked: false },
  });
  assert.equal(mine.optimizer, 'nesterov');
  assert.deepEqual(mine.learningRate, { start: 0.001, stop: 0.00001 });
  assert.equal(mine.loss.kind, 'mse');
  assert.equal(mine.batchSize, 128);
  assert.equal(mine.augment, null);
  // The tutorial's presets do not augment and keep Nesterov momentum and the MSE.
  for (const name of TUTORIAL_PRESET_NAMES) {
    assert.equal(presetTraining(name).augment, undefined);
    assert.equal(presetTraining(name).optimizer, undefined);
    assert.equal(
      presetTraining(name).outputBias,
      undefined,
      `${name} starts its bias at zero, as Lasagne does`,
    );
    assert.ok(presetSpec(name, 30).layers.every((l) => (l as { init?: string }).init === undefined));
    assert.equal(
      resolveTrainConfig({ preset: name, data: { source: 'x.csv', masked: false } }).loss.kind,
      'mse',
    );
  }
});
