// Stop-and-resume with Adam (and a robust loss, weight decay and schedules on
// Adam's variables) is bit-identical to an uninterrupted run, on both
// engines; model files written before Adam (Nesterov, by main at e326e3a)
// still load and resume exactly.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { Engine } from '../../src/engine/engine.js';
import { loadNativeEngine, nativeEngineAvailable } from '../../src/engine/native/native-engine.js';
import { AdjustVariable } from '../../src/train/callbacks/index.js';
import type { Callback } from '../../src/train/callbacks/types.js';
import { FlipBatchIterator } from '../../src/train/flip-batch-iterator.js';
import { readModelFile } from '../../src/train/model-file-node.js';
import { NeuralNet, type NeuralNetOptions } from '../../src/train/neural-net.js';
import { blobData, dataOf, losses, tfjsEngine, tinySpec } from './fixtures.js';

const OLD_FILE = join(dirname(fileURLToPath(import.meta.url)), 'model-files', 'nesterov-e326e3a.fpm');

const ENGINES: { name: string; skip: string | false; load: () => Promise<Engine> }[] = [
  { name: 'tfjs', skip: false, load: tfjsEngine },
  {
    name: 'native',
    skip: nativeEngineAvailable()
      ? false
      : 'native addon not built (install libdnnl-dev, then npm run build)',
    load: async () => loadNativeEngine({ threads: 2 }),
  },
];

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'facepoints-adam-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function flips(): FlipBatchIterator {
  return new FlipBatchIterator({
    batchSize: 8,
    shuffle: true,
    flipPairs: [
      [0, 4],
      [1, 5],
    ],
    // The fixture below was written by main, which flipped the tutorial's way.
    mirror: 'tutorial',
  });
}

const stopAt = (epochs: number): Callback => ({
  onEpochFinished: (net, history) => (history.length === epochs ? net.requestStop() : undefined),
});

for (const engineCase of ENGINES) {
  describe(`${engineCase.name} engine`, { skip: engineCase.skip }, () => {
    const adamOptions = async (extra: Partial<NeuralNetOptions> = {}): Promise<NeuralNetOptions> => ({
      layers: tinySpec(6, { dropout: true }),
      engine: await engineCase.load(),
      seed: 23,
      maxEpochs: 6,
      update: 'adam',
      updateLearningRate: 0.01,
      weightDecay: 0.001,
      loss: { kind: 'wing', w: 0.3, epsilon: 0.05 },
      batchIteratorTrain: flips(),
      onEpochFinished: [
        new AdjustVariable('updateLearningRate', 0.01, 0.001),
        new AdjustVariable('update_beta1', 0.9, 0.8),
      ],
      ...extra,
    });

    test('Adam: stop after epoch 3, save, load, fit on = an uninterrupted run, bit for bit', async (t) => {
      const dir = await tempDir(t);
      const { X, y } = blobData(40, 9);
      const straight = await new NeuralNet(await adamOptions()).fit(X, y);
      const first = await new NeuralNet(await adamOptions({ callbacks: [stopAt(3)] })).fit(X, y);
      assert.equal(first.trainHistory.length, 3);
      const path = join(dir, 'adam.fpm');
      await first.save(path);
      const bytes = await readFile(path);
      assert.equal(bytes.readUInt32LE(8), 2, 'an Adam net is written as format version 2');
      const content = await readModelFile(path);
      assert.equal(content.optimizer, 'adam');
      assert.deepEqual(content.training.loss, { kind: 'wing', w: 0.3, epsilon: 0.05 });
      const step = content.optimizerState!.find((s) => s.name === 'step')!;
      assert.deepEqual([...step.data], [3 * 4], '32 training rows in batches of 8, 3 epochs');

      const resumed = await NeuralNet.load(path, { engine: await engineCase.load() });
      assert.equal(resumed.update, 'adam');
      assert.deepEqual(resumed.loss, { kind: 'wing', w: 0.3, epsilon: 0.05 });
      assert.deepEqual(resumed.variables, first.variables);
      assert.equal(resumed.variables.updateBeta1, new AdjustVariable('x', 0.9, 0.8).valueAt(3, 6));
      await resumed.fit(X, y);
      assert.deepEqual(losses(resumed.trainHistory), losses(straight.trainHistory));
      assert.deepEqual(resumed.variables, straight.variables);
      assert.deepEqual(dataOf(await resumed.getWeights()), dataOf(await straight.getWeights()));
      assert.deepEqual(dataOf(await resumed.getOptimizerState()), dataOf(await straight.getOptimizerState()));
      // The training really moved the weights, and the wing loss is what the history holds.
      assert.ok(straight.trainHistory[5].trainLoss < straight.trainHistory[0].trainLoss);
    });

    test('a file written by main with Nesterov loads, keeps its velocities and resumes', async () => {
      const content = await readModelFile(OLD_FILE);
      assert.equal(content.optimizer, undefined);
      const net = await NeuralNet.load(OLD_FILE, { engine: await engineCase.load() });
      assert.equal(net.update, 'nesterov');
      assert.equal(net.loss.kind, 'mse');
      assert.equal(net.epoch, 3);
      assert.equal(net.variables.updateLearningRate, content.variables.updateLearningRate);
      assert.equal(net.variables.updateMomentum, content.variables.updateMomentum);
      assert.equal(net.variables.weightDecay, 0);
      assert.deepEqual(dataOf(await net.getOptimizerState()), dataOf(content.optimizerState!));
      assert.deepEqual(dataOf(await net.getWeights()), dataOf(content.weights));
      const { X, y } = blobData(40, 5);
      await net.fit(X, y);
      assert.deepEqual(
        net.trainHistory.map((r) => r.epoch),
        [1, 2, 3, 4, 5, 6],
      );
      assert.ok(net.trainHistory.every((r) => Number.isFinite(r.trainLoss) && Number.isFinite(r.validLoss)));
    });

    test('loading with another update rule starts that rule with fresh state', async () => {
      // The file's schedules set updateMomentum, which Adam has not: they are replaced.
      const net = await NeuralNet.load(OLD_FILE, {
        engine: await engineCase.load(),
        update: 'adam',
        callbacks: [],
      });
      assert.equal(net.update, 'adam');
      assert.equal(net.variables.updateLearningRate, 0.001, "Adam's default, not the file's Nesterov rate");
      const state = await net.getOptimizerState();
      assert.ok(state.every((s) => s.data.every((v) => v === 0)));
      const { X, y } = blobData(40, 5);
      await net.fit(X, y, { epochs: 1 });
      assert.equal(net.epoch, 4);
      const step = (await net.getOptimizerState()).find((s) => s.name === 'step')!;
      assert.deepEqual([...step.data], [4]);
    });
  });
}

test('the file written by main resumes exactly like an uninterrupted run of today (tfjs)', async () => {
  // The fixture: main at e326e3a, this net and these options, stopped after epoch 3 of 6 and saved.
  const { X, y } = blobData(40, 5);
  const straight = await new NeuralNet({
    layers: tinySpec(6, { dropout: true }),
    engine: await tfjsEngine(),
    seed: 21,
    maxEpochs: 6,
    updateLearningRate: 0.3,
    batchIteratorTrain: flips(),
    onEpochFinished: [
      new AdjustVariable('updateLearningRate', 0.3, 0.001),
      new AdjustVariable('updateMomentum', 0.9, 0.99),
    ],
    metadata: { schema: 'tiny3' },
  }).fit(X, y);
  const resumed = await NeuralNet.load(OLD_FILE, { engine: await tfjsEngine() });
  await resumed.fit(X, y);
  assert.deepEqual(losses(resumed.trainHistory), losses(straight.trainHistory));
  assert.deepEqual(dataOf(await resumed.getWeights()), dataOf(await straight.getWeights()));
  assert.deepEqual(dataOf(await resumed.getOptimizerState()), dataOf(await straight.getOptimizerState()));
});

test('NeuralNet refuses hyper-parameters of the other rule and bad values', async () => {
  assert.throws(
    () => new NeuralNet({ layers: tinySpec(), update: 'adam', updateMomentum: 0.9 }),
    /updateMomentum applies to nesterov only/,
  );
  assert.throws(
    () => new NeuralNet({ layers: tinySpec(), updateBeta1: 0.9 }),
    /updateBeta1 applies to adam only/,
  );
  assert.throws(
    () => new NeuralNet({ layers: tinySpec(), update: 'adam', updateBeta2: 1 }),
    /beta2 must be in \[0, 1\)/,
  );
  assert.throws(
    () => new NeuralNet({ layers: tinySpec(), weightDecay: -1 }),
    /weightDecay must be a number >= 0/,
  );
  assert.throws(
    () => new NeuralNet({ layers: tinySpec(), loss: 'huber' as 'mse' }),
    /loss must be one of mse, l1, smooth-l1, wing/,
  );
  const net = new NeuralNet({ layers: tinySpec(), update: 'adam' });
  net.setVariable('update_epsilon', 1e-6);
  assert.equal(net.getVariable('updateEpsilon'), 1e-6);
  assert.throws(() => net.setVariable('updateMomentum', 0.9), /unknown variable 'updateMomentum'/);
});
