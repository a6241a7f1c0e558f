import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NamedTensor } from '../../../src/engine/engine.js';
import { Rng } from '../../../src/random/rng.js';
import { BatchIterator } from '../../../src/train/batch-iterator.js';
import { EarlyStopping } from '../../../src/train/callbacks/index.js';
import type { Callback } from '../../../src/train/callbacks/types.js';
import { NeuralNet } from '../../../src/train/neural-net.js';
import { ENGINES, blobData, dataOf, engineFor, tinySpec } from '../fixtures.js';

/**
 * A run whose valid loss gets worse after `epoch`: there the weights are
 * scrambled and the update frozen (learning rate and momentum 0), so every
 * later epoch is worse than the best one.
 */
function spoilAfter(epoch: number): Callback {
  return {
    async onEpochFinished(net, history) {
      if (history[history.length - 1].epoch !== epoch) return;
      const rng = new Rng(1, 'spoil');
      const weights = await net.getWeights();
      await net.setWeights(weights.map((w) => ({ ...w, data: w.data.map((v) => v + rng.uniform(-1, 1)) })));
      net.setVariable('updateLearningRate', 0);
      net.setVariable('updateMomentum', 0);
    },
  };
}

/** Snapshots the weights at the end of every epoch. */
function recorder(): Callback & { snapshots: Map<number, NamedTensor[]> } {
  const snapshots = new Map<number, NamedTensor[]>();
  return {
    snapshots,
    async onEpochFinished(net, history) {
      snapshots.set(history[history.length - 1].epoch, await net.getWeights());
    },
  };
}

for (const { name: engine, skip } of ENGINES) {
  async function run(options: { patience: number; maxEpochs: number; spoil: number; interruptAt?: number }) {
    const { X, y } = blobData(48, 11);
    const record = recorder();
    const early = new EarlyStopping({ patience: options.patience });
    const net = new NeuralNet({
      layers: tinySpec(),
      engine: await engineFor(engine),
      updateLearningRate: 0.05,
      maxEpochs: options.maxEpochs,
      batchIteratorTrain: new BatchIterator({ batchSize: 8, shuffle: true }),
      onBatchFinished: (n) => {
        if (n.epoch + 1 === options.interruptAt) process.emit('SIGINT');
      },
      // Order matters: snapshot, then early stopping sees the epoch, then the run is spoiled.
      onEpochFinished: [record, early, spoilAfter(options.spoil)],
    });
    await net.fit(X, y);
    const valid = net.trainHistory.map((r) => r.validLoss);
    const bestEpoch = valid.indexOf(Math.min(...valid)) + 1;
    return { net, record, early, valid, bestEpoch };
  }

  test(
    `${engine}: early stopping stops after patience epochs without a better valid loss and restores the best weights`,
    { skip },
    async () => {
      const { net, record, early, valid, bestEpoch } = await run({ patience: 2, maxEpochs: 50, spoil: 4 });
      assert.equal(net.stopReason, 'earlyStopping');
      assert.ok(bestEpoch <= 4, `best epoch ${bestEpoch}`);
      assert.ok(
        valid.slice(4).every((v) => v > valid[bestEpoch - 1]),
        `valid losses ${valid}`,
      );
      assert.equal(net.trainHistory.length, bestEpoch + 3, 'stops at the first epoch past best + patience');
      assert.equal(early.best.epoch, bestEpoch);
      assert.deepEqual(dataOf(await net.getWeights()), dataOf(record.snapshots.get(bestEpoch)!));
      assert.notDeepEqual(
        dataOf(await net.getWeights()),
        dataOf(record.snapshots.get(net.trainHistory.length)!),
      );
    },
  );

  test(
    `${engine}: the best weights come back when maxEpochs ends the run, and when Ctrl-C does`,
    { skip },
    async () => {
      const byMax = await run({ patience: 100, maxEpochs: 6, spoil: 3 });
      assert.equal(byMax.net.stopReason, 'maxEpochs');
      assert.equal(byMax.net.trainHistory.length, 6);
      assert.deepEqual(
        dataOf(await byMax.net.getWeights()),
        dataOf(byMax.record.snapshots.get(byMax.bestEpoch)!),
      );

      const listeners = process.listenerCount('SIGINT');
      const byInterrupt = await run({ patience: 100, maxEpochs: 50, spoil: 3, interruptAt: 6 });
      assert.equal(byInterrupt.net.stopReason, 'interrupted');
      assert.equal(byInterrupt.net.trainHistory.length, 5, 'the interrupted epoch 6 is not recorded');
      assert.deepEqual(
        dataOf(await byInterrupt.net.getWeights()),
        dataOf(byInterrupt.record.snapshots.get(byInterrupt.bestEpoch)!),
      );
      assert.equal(process.listenerCount('SIGINT'), listeners, 'the SIGINT handler is removed when fit ends');
    },
  );
}
