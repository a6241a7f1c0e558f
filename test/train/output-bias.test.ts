import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import { initWeights } from '../../src/nn/init.js';
import { resolveSpec, type NetworkSpec } from '../../src/nn/spec.js';
import { checkConfigInput, resolveTrainConfig } from '../../src/runs/train-config.js';
import { BatchIterator } from '../../src/train/batch-iterator.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { meanTargets } from '../../src/train/output-bias.js';
import { TrainSplit } from '../../src/train/train-split.js';
import { ENGINES, blobData, engineFor } from './fixtures.js';

function zeroOutputSpec(outputs = 6): NetworkSpec {
  return {
    layers: [
      { kind: 'input', shape: [1, 12, 12], name: 'input' },
      { kind: 'conv2d', filters: 4, kernelSize: 3, name: 'conv1' },
      { kind: 'maxpool2d', poolSize: 2, name: 'pool1' },
      { kind: 'dense', units: 16, name: 'hidden4' },
      { kind: 'dense', units: outputs, activation: 'linear', init: 'zeros', name: 'output' },
    ],
  };
}

test('meanTargets: the mean of each column over the given rows, skipping missing values', () => {
  const y = new Float32Array([0.1, NaN, 0.3, 0.5, 9, 9]);
  assert.deepEqual(Array.from(meanTargets(y, [0, 1], 2)), [Math.fround(0.2), 0.5]);
  assert.deepEqual(Array.from(meanTargets(y, [0], 2)), [Math.fround(0.1), 0], 'a column with no value: 0');
});

test("dense init 'zeros' starts W at zero; other layers keep Glorot; a bad init is refused by name", () => {
  const weights = initWeights(resolveSpec(zeroOutputSpec()), 3);
  const W = weights.find((w) => w.name === 'output.W')!;
  assert.ok(W.data.every((v) => v === 0));
  assert.ok(weights.find((w) => w.name === 'hidden4.W')!.data.some((v) => v !== 0));
  const bad = zeroOutputSpec();
  (bad.layers[4] as { init?: unknown }).init = 'he';
  assert.throws(
    () => resolveSpec(bad),
    (e: unknown) =>
      e instanceof ShapeError && /output.*init must be 'glorot' or 'zeros', got "he"/.test(String(e)),
  );
});

for (const { name: engine, skip } of ENGINES) {
  test(
    `${engine}: outputBias 'meanTargets' makes the untrained net predict the training rows' mean, once`,
    { skip },
    async () => {
      const { X, y } = blobData(32, 5);
      const split = new TrainSplit({ evalSize: 0.25 });
      const net = new NeuralNet({
        layers: zeroOutputSpec(),
        engine: await engineFor(engine),
        outputBias: 'meanTargets',
        trainSplit: split,
        batchIteratorTrain: new BatchIterator({ batchSize: 8, shuffle: true }),
        maxEpochs: 3,
        seed: 2,
      });
      await net.fit(X, y, { epochs: 0 });
      const trainRows = net.splitRows(32).train;
      const expected = meanTargets(y, trainRows, 6);
      const all = meanTargets(
        y,
        Array.from({ length: 32 }, (_, i) => i),
        6,
      );
      assert.ok(
        expected.some((v, k) => Math.abs(v - all[k]) > 1e-4),
        'the valid rows change the mean: the test can tell',
      );
      const predicted = await net.predict(X);
      for (let n = 0; n < 32; n++)
        for (let k = 0; k < 6; k++)
          assert.ok(Math.abs(predicted[n * 6 + k] - expected[k]) < 1e-6, `row ${n} column ${k}`);
      // Trained on, then fitted again: the bias is the trained one, not reset to the mean.
      await net.fit(X, y, { epochs: 2 });
      const trained = (await net.getWeights()).find((w) => w.name === 'output.b')!.data;
      assert.ok(
        trained.some((v, k) => Math.abs(v - expected[k]) > 1e-5),
        'training moved the bias',
      );
      await net.fit(X, y, { epochs: 0 });
      assert.deepEqual((await net.getWeights()).find((w) => w.name === 'output.b')!.data, trained);
      // A net loaded from a file keeps its weights.
      const loaded = NeuralNet.fromModelContent(await net.toModelContent(), {
        engine: await engineFor(engine),
        outputBias: 'meanTargets',
      });
      await loaded.fit(X, y, { epochs: 0 });
      assert.deepEqual((await loaded.getWeights()).find((w) => w.name === 'output.b')!.data, trained);
    },
  );
}

test("a config's outputBias: 'zeros' by default and for old config files, the accuracy preset's mean shape, checked", () => {
  const data = { source: 'x.csv', masked: false };
  assert.equal(
    resolveTrainConfig(checkConfigInput({ preset: 'net4', data }, 'config.json')).outputBias,
    'zeros',
  );
  assert.equal(
    resolveTrainConfig({ preset: 'conv8-bn-aug', schema: 'ibug68', data }).outputBias,
    'meanTargets',
  );
  assert.equal(
    resolveTrainConfig({ preset: 'conv8-bn-aug', schema: 'ibug68', data, outputBias: 'zeros' }).outputBias,
    'zeros',
  );
  assert.throws(
    () => checkConfigInput({ outputBias: 'mean' }, 'a.json'),
    /a\.json: "outputBias" must be 'zeros' or 'meanTargets', got "mean"/,
  );
});
