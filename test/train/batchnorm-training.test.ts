// Batch norm through the whole training stack, on both engines: its running
// statistics move during fit, are used by predict, are saved in model files
// and restored by load, and a stopped-and-resumed run (Nesterov momentum,
// schedules, flips, early stopping) is bit-identical to an uninterrupted one.
// A net trained natively predicts the same on tfjs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Engine } from '../../src/engine/engine.js';
import { loadNativeEngine } from '../../src/engine/native/native-engine.js';
import type { NetworkSpec } from '../../src/nn/spec.js';
import { AdjustVariable, EarlyStopping } from '../../src/train/callbacks/index.js';
import type { Callback } from '../../src/train/callbacks/types.js';
import { FlipBatchIterator } from '../../src/train/flip-batch-iterator.js';
import { NeuralNet, type NeuralNetOptions } from '../../src/train/neural-net.js';
import { parseModelFile, serializeModelFile } from '../../src/train/model-file.js';
import { ModelFileError } from '../../src/errors.js';
import { skipNative } from '../engine/native/fixtures.js';
import { blobData, dataOf, losses, tfjsEngine } from './fixtures.js';

const BN_SPEC: NetworkSpec = {
  layers: [
    { kind: 'input', shape: [1, 12, 12] },
    { kind: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'linear' },
    { kind: 'batchnorm', activation: 'relu' },
    { kind: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', stride: 2, activation: 'linear' },
    { kind: 'batchnorm', activation: 'leakyRelu', alpha: 0.2 },
    { kind: 'avgpool2d', poolSize: 2 },
    { kind: 'globalavgpool' },
    { kind: 'dense', units: 6, activation: 'linear' },
  ],
};

const ENGINES: Record<string, { skip: string | false; open: () => Promise<Engine> }> = {
  native: { skip: skipNative, open: () => loadNativeEngine({ threads: 1 }) },
  tfjs: { skip: false, open: tfjsEngine },
};

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'facepoints-bn-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function options(engine: Engine, extra: Partial<NeuralNetOptions> = {}): NeuralNetOptions {
  return {
    layers: BN_SPEC,
    engine,
    seed: 23,
    maxEpochs: 6,
    updateLearningRate: 0.1,
    batchIteratorTrain: new FlipBatchIterator({
      batchSize: 8,
      shuffle: true,
      flipPairs: [
        [0, 4],
        [1, 5],
      ],
    }),
    onEpochFinished: [
      new AdjustVariable('updateLearningRate', 0.1, 0.001),
      new AdjustVariable('updateMomentum', 0.9, 0.99),
      new EarlyStopping({ patience: 2 }),
    ],
    handleInterrupt: false,
    ...extra,
  };
}

for (const [name, { skip, open }] of Object.entries(ENGINES)) {
  test(
    `${name}: batch norm statistics train, predict, save and resume bit-identically`,
    { skip },
    async (t) => {
      const engine = await open();
      const dir = await tempDir(t);
      const { X, y } = blobData(48, 11);
      const straight = await new NeuralNet(options(engine)).fit(X, y);
      const weights = await straight.getWeights();
      const mean = weights.find((w) => w.name === 'bn1.mean')!;
      const variance = weights.find((w) => w.name === 'bn1.var')!;
      assert.ok(
        mean.data.some((v) => v !== 0) && variance.data.some((v) => v !== 1),
        'running statistics moved',
      );
      // predict uses the running statistics: resetting them changes the outputs.
      const reset = await new NeuralNet(options(engine)).initialize();
      await reset.setWeights(
        weights.map((w) =>
          w.name.endsWith('.mean') || w.name.endsWith('.var')
            ? { ...w, data: w.data.map(() => (w.name.endsWith('.var') ? 1 : 0)) }
            : w,
        ),
      );
      const probe = X.subarray(0, 8 * 144);
      assert.notDeepEqual(await reset.predict(probe), await straight.predict(probe));

      const stopAt3: Callback = {
        onEpochFinished: (net, history) => (history.length === 3 ? net.requestStop() : undefined),
      };
      const first = await new NeuralNet(options(engine, { callbacks: [stopAt3] })).fit(X, y);
      assert.equal(first.trainHistory.length, 3);
      const path = join(dir, 'stopped.fpm');
      await first.save(path);
      const resumed = await NeuralNet.load(path, { engine });
      await resumed.fit(X, y);
      assert.deepEqual(losses(resumed.trainHistory), losses(straight.trainHistory));
      assert.deepEqual(dataOf(await resumed.getWeights()), dataOf(weights), 'weights and running statistics');
      assert.deepEqual(
        dataOf(await resumed.getOptimizerState()),
        dataOf(await straight.getOptimizerState()),
        'velocities',
      );
      assert.deepEqual(await resumed.predict(probe), await straight.predict(probe));
    },
  );
}

test(
  'a batch norm net trained natively predicts the same on tfjs (1e-5)',
  { skip: skipNative },
  async (t) => {
    const dir = await tempDir(t);
    const { X, y } = blobData(48, 12);
    const native = await new NeuralNet(options(await loadNativeEngine({ threads: 1 }), { maxEpochs: 4 })).fit(
      X,
      y,
    );
    const path = join(dir, 'native.fpm');
    await native.save(path);
    const tfjs = await NeuralNet.load(path, { engine: await tfjsEngine() });
    const [a, b] = [await native.predict(X), await tfjs.predict(X)];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst <= 1e-5, `max difference ${worst}`);
    assert.equal(tfjs.engineName?.startsWith('tfjs'), true);
  },
);

test('a model file of a batch norm net must hold its running statistics', async () => {
  const net = await new NeuralNet(options(await tfjsEngine(), { maxEpochs: 1 })).initialize();
  const content = await net.toModelContent();
  assert.ok(content.weights.some((w) => w.name === 'bn1.var'));
  assert.equal(
    content.optimizerState?.some((w) => w.name === 'bn1.var'),
    false,
    'no velocity for state',
  );
  const without = { ...content, weights: content.weights.filter((w) => w.name !== 'bn1.var') };
  assert.throws(
    () => parseModelFile(serializeModelFile(without), 'bn.fpm'),
    (e: unknown) => e instanceof ModelFileError && /weights: bn1\.var is missing/.test(e.message),
  );
});
