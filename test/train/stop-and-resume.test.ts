import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelFileError } from '../../src/errors.js';
import { AdjustVariable, Checkpoint, EarlyStopping } from '../../src/train/callbacks/index.js';
import type { Callback } from '../../src/train/callbacks/types.js';
import { FlipBatchIterator } from '../../src/train/flip-batch-iterator.js';
import { NeuralNet, type NeuralNetOptions } from '../../src/train/neural-net.js';
import { ENGINES, blobData, dataOf, engineFor, losses, tinySpec } from './fixtures.js';

/** Weights and velocities (velocities carry their parameter's name, so they get a prefix here). */
async function weightsAndVelocities(net: NeuralNet): Promise<Record<string, number[]>> {
  const velocities = (await net.getOptimizerState()).map((t) => ({ ...t, name: `velocity:${t.name}` }));
  return dataOf([...(await net.getWeights()), ...velocities]);
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'facepoints-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Everything that can make a resumed run drift: schedules, flips, shuffles, dropout, early stopping. */
for (const { name: engine, skip } of ENGINES) {
  async function options(extra: Partial<NeuralNetOptions> = {}): Promise<NeuralNetOptions> {
    return {
      layers: tinySpec(6, { dropout: true }),
      engine: await engineFor(engine),
      seed: 21,
      maxEpochs: 6,
      updateLearningRate: 0.3,
      batchIteratorTrain: new FlipBatchIterator({
        batchSize: 8,
        shuffle: true,
        flipPairs: [
          [0, 4],
          [1, 5],
        ],
        // The scenario below was set up with the tutorial's rule.
        mirror: 'tutorial',
      }),
      onEpochFinished: [
        new AdjustVariable('updateLearningRate', 0.3, 0.001),
        new AdjustVariable('updateMomentum', 0.9, 0.99),
        new EarlyStopping({ patience: 1 }),
      ],
      metadata: { schema: 'tiny3' },
      ...extra,
    };
  }

  test(
    `${engine}: save -> load gives identical predictions and keeps metadata, history and variables`,
    { skip },
    async (t) => {
      const dir = await tempDir(t);
      const { X, y } = blobData(40, 5);
      const net = await new NeuralNet(await options({ maxEpochs: 2 })).fit(X, y);
      const path = join(dir, 'net.fpm');
      await net.save(path);
      const loaded = await NeuralNet.load(path, { engine: await engineFor(engine) });
      assert.deepEqual(await loaded.predict(X), await net.predict(X));
      assert.deepEqual(loaded.metadata, { schema: 'tiny3' });
      assert.deepEqual(loaded.trainHistory, net.trainHistory);
      assert.deepEqual(loaded.variables, net.variables);
      assert.equal(loaded.seed, 21);
      assert.ok(loaded.batchIteratorTrain instanceof FlipBatchIterator);
      assert.deepEqual(
        loaded.callbacks.map((c) => c.constructor.name),
        ['AdjustVariable', 'AdjustVariable', 'EarlyStopping'],
      );
    },
  );

  test(
    `${engine}: save mid-training -> load -> fit continues exactly like an uninterrupted run`,
    { skip },
    async (t) => {
      const dir = await tempDir(t);
      const { X, y } = blobData(40, 7);
      const straight = await new NeuralNet(await options()).fit(X, y);

      // A run stopped after the first epoch that is not a new best (its early stopping then restores an
      // earlier epoch's weights, and the resumed fit must go on from the stopped epoch's), saved, loaded, fitted on.
      const stop = straight.trainHistory.find((r) => !r.validLossBest)?.epoch;
      assert.ok(stop !== undefined && stop < straight.trainHistory.length, `no epoch to stop at: ${stop}`);
      const stopThere: Callback = {
        onEpochFinished: (net, history) => (history.length === stop ? net.requestStop() : undefined),
      };
      const first = await new NeuralNet(await options({ callbacks: [stopThere] })).fit(X, y);
      assert.equal(first.trainHistory.length, stop);
      const early = first.callbacks.find((c): c is EarlyStopping => c instanceof EarlyStopping)!;
      assert.ok(early.best.epoch < stop, `best epoch ${early.best.epoch}, stopped at ${stop}`);
      const path = join(dir, 'stopped.fpm');
      await first.save(path);
      const resumed = await NeuralNet.load(path, { engine: await engineFor(engine) });
      const loadedEarly = resumed.callbacks.find((c): c is EarlyStopping => c instanceof EarlyStopping)!;
      assert.deepEqual(loadedEarly.best, early.best, 'early stopping state survives the file');
      const epochsSeen: number[] = [];
      assert.equal(
        resumed.variables.updateLearningRate,
        new AdjustVariable('x', 0.3, 0.001).valueAt(stop, 6),
      );
      await resumed.fit(X, y);
      for (const r of resumed.trainHistory) epochsSeen.push(r.epoch);
      assert.deepEqual(
        epochsSeen,
        straight.trainHistory.map((r) => r.epoch),
      );
      assert.deepEqual(losses(resumed.trainHistory), losses(straight.trainHistory));
      assert.deepEqual(resumed.variables, straight.variables);
      assert.deepEqual(dataOf(await resumed.getWeights()), dataOf(await straight.getWeights()));
    },
  );

  test(`${engine}: a checkpoint of every epoch resumes exactly too`, { skip }, async (t) => {
    const dir = await tempDir(t);
    const { X, y } = blobData(40, 6);
    const straight = await new NeuralNet(await options({ maxEpochs: 4 })).fit(X, y);
    const checkpoint = new Checkpoint({ path: join(dir, 'ckpt-{epoch}.fpm') });
    const withCheckpoints = await new NeuralNet(await options({ maxEpochs: 4, callbacks: [checkpoint] })).fit(
      X,
      y,
    );
    assert.equal(checkpoint.lastSaved, join(dir, 'ckpt-0004.fpm'));
    assert.deepEqual(losses(withCheckpoints.trainHistory), losses(straight.trainHistory));
    const resumed = await NeuralNet.load(join(dir, 'ckpt-0002.fpm'), { engine: await engineFor(engine) });
    assert.equal(resumed.epoch, 2);
    await resumed.fit(X, y);
    assert.deepEqual(losses(resumed.trainHistory), losses(straight.trainHistory));
    assert.deepEqual(dataOf(await resumed.getWeights()), dataOf(await straight.getWeights()));
  });

  test(
    `${engine}: requestStop mid-epoch drops that epoch, rolls the weights back and keeps the history complete`,
    { skip },
    async () => {
      const { X, y } = blobData(40, 7);
      const snapshots = new Map<number, Record<string, number[]>>();
      const events: string[] = [];
      let stopped = false;
      const net = new NeuralNet({
        layers: tinySpec(),
        engine: await engineFor(engine),
        maxEpochs: 10,
        onBatchFinished: (n, _h) => {
          if (n.epoch === 2 && !stopped) {
            stopped = true;
            n.requestStop(); // during epoch 3, after its first batch
          }
        },
        onEpochFinished: async (n, history) => {
          snapshots.set(history.length, await weightsAndVelocities(n));
        },
        onTrainingFinished: (_n, history) => {
          events.push(`finished after ${history.length}`);
        },
      });
      await net.fit(X, y);
      assert.equal(net.stopReason, 'requested');
      assert.deepEqual(
        net.trainHistory.map((r) => r.epoch),
        [1, 2],
      );
      assert.ok(net.trainHistory.every((r) => Number.isFinite(r.trainLoss) && Number.isFinite(r.validLoss)));
      assert.deepEqual(events, ['finished after 2']);
      assert.deepEqual(await weightsAndVelocities(net), snapshots.get(2));
      // The net is usable and fit goes on from epoch 3.
      await net.fit(X, y, { epochs: 1 });
      assert.equal(net.trainHistory[2].epoch, 3);
    },
  );

  test(
    `${engine}: loading a corrupt or truncated model file fails with ModelFileError and leaves the file alone`,
    { skip },
    async (t) => {
      const dir = await tempDir(t);
      const { X, y } = blobData(20, 8);
      const path = join(dir, 'net.fpm');
      await (await new NeuralNet(await options({ maxEpochs: 1 })).fit(X, y)).save(path);
      const good = await readFile(path);
      const truncated = good.subarray(0, Math.floor(good.length / 2));
      const corrupt = Buffer.from(good);
      corrupt[corrupt.length - 100] ^= 0xff;
      for (const [bytes, message] of [
        [truncated, /truncated/],
        [corrupt, /checksum mismatch/],
      ] as const) {
        await writeFile(path, bytes);
        await assert.rejects(
          NeuralNet.load(path, { engine: await engineFor(engine) }),
          (e: unknown) => e instanceof ModelFileError && e.file === path && message.test(e.message),
        );
        assert.deepEqual(await readFile(path), bytes);
      }
    },
  );
}
