import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { BatchIterator } from '../../src/train/batch-iterator.js';
import { linspace } from '../../src/train/callbacks/adjust-variable.js';
import { AdjustVariable } from '../../src/train/callbacks/index.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { TrainSplit } from '../../src/train/train-split.js';
import { ENGINES, blobData, dataOf, engineFor, tinySpec } from './fixtures.js';

for (const { name: engine, skip } of ENGINES) {
  test(`${engine}: a tiny net overfits a fixed batch through fit`, { skip }, async () => {
    const { X, y } = blobData(16, 1);
    const net = new NeuralNet({
      layers: tinySpec(),
      engine: await engineFor(engine),
      updateLearningRate: 0.05,
      maxEpochs: 150,
      trainSplit: null,
      batchIteratorTrain: new BatchIterator({ batchSize: 16 }),
      seed: 1,
    });
    await net.fit(X, y);
    const first = net.trainHistory[0].trainLoss;
    const last = net.trainHistory[net.trainHistory.length - 1].trainLoss;
    assert.equal(net.trainHistory.length, 150);
    assert.ok(last < first / 50, `train loss ${first} -> ${last}`);
    assert.ok(Number.isNaN(net.trainHistory[0].validLoss), 'no validation without a split');
    const score = await net.score(X, y);
    assert.ok(score < first / 50, `score ${score}`);
  });

  test(
    `${engine}: fit records nolearn history, each epoch trains with the variables callbacks set`,
    { skip },
    async () => {
      const { X, y } = blobData(40, 2);
      const seen: [number, number, number][] = [];
      const maxEpochs = 5;
      const net = new NeuralNet({
        layers: tinySpec(),
        engine: await engineFor(engine),
        updateLearningRate: 0.03,
        updateMomentum: 0.9,
        maxEpochs,
        batchIteratorTrain: new BatchIterator({ batchSize: 8, shuffle: true }),
        onBatchFinished: (n, _history) => {
          if (seen.length === 0 || seen[seen.length - 1][0] !== n.epoch + 1) {
            seen.push([n.epoch + 1, n.variables.updateLearningRate, n.variables.updateMomentum]);
          }
        },
        onEpochFinished: [
          new AdjustVariable('update_learning_rate', 0.03, 0.0001),
          new AdjustVariable('updateMomentum', 0.9, 0.999),
        ],
      });
      await net.fit(X, y);
      assert.deepEqual(
        net.trainHistory.map((r) => r.epoch),
        [1, 2, 3, 4, 5],
      );
      for (const r of net.trainHistory) {
        assert.ok(r.trainLoss > 0 && r.validLoss > 0 && r.dur > 0);
        assert.equal(r.trainValRatio, r.trainLoss / r.validLoss);
      }
      const lr = linspace(0.03, 0.0001, maxEpochs).map(Math.fround);
      const m = linspace(0.9, 0.999, maxEpochs).map(Math.fround);
      // Epoch 1 trains with the initial values, epoch e with the value set at the end of e - 1.
      assert.deepEqual(seen, [
        [1, 0.03, 0.9],
        [2, lr[0], m[0]],
        [3, lr[1], m[1]],
        [4, lr[2], m[2]],
        [5, lr[3], m[3]],
      ]);
      assert.equal(net.variables.updateLearningRate, lr[4]);
      assert.equal(net.stopReason, 'maxEpochs');
      // A second fit has nothing left to do: the history already holds maxEpochs epochs.
      await net.fit(X, y);
      assert.equal(net.trainHistory.length, 5);
      await net.fit(X, y, { epochs: 1 });
      assert.equal(net.trainHistory.length, 6);
    },
  );

  test(
    `${engine}: predict batches through batchIteratorTest, keeps row order, and score is the masked MSE`,
    { skip },
    async () => {
      const { X, y } = blobData(13, 3);
      const compiled = await engineFor(engine);
      const whole = new NeuralNet({ layers: tinySpec(), engine: compiled, seed: 5 });
      const batched = new NeuralNet({
        layers: tinySpec(),
        engine: compiled,
        seed: 5,
        batchIteratorTest: new BatchIterator({ batchSize: 4, shuffle: true, seed: 9 }),
      });
      const a = await whole.predict(X);
      const b = await batched.predict(X);
      assert.equal(a.length, 13 * 6);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `value ${i}: ${v} vs ${b[i]}`));

      y[0] = NaN;
      y[20] = NaN;
      let sum = 0;
      let present = 0;
      y.forEach((t, i) => {
        if (!Number.isNaN(t)) {
          sum += (a[i] - t) ** 2;
          present++;
        }
      });
      const score = await batched.score(X, y);
      assert.ok(Math.abs(score - sum / present) < 1e-6 * (sum / present), `${score} vs ${sum / present}`);
      await assert.rejects(whole.predict(new Float32Array(100)), ConfigError);
      await assert.rejects(whole.fit(X, new Float32Array(5)), /y has 5 values/);
    },
  );

  test(`${engine}: the split keeps groups apart and the same seed gives the same run`, { skip }, async () => {
    const { X, y } = blobData(30, 4);
    const groups = Array.from({ length: 30 }, (_, i) => `id${i % 6}`);
    const compiled = await engineFor(engine);
    const make = () =>
      new NeuralNet({
        layers: tinySpec(),
        engine: compiled,
        maxEpochs: 2,
        trainSplit: new TrainSplit({ evalSize: 0.3 }),
        seed: 8,
      });
    const one = make();
    const { train, valid } = one.splitRows(30, groups);
    const validGroups = new Set([...valid].map((r) => groups[r]));
    assert.ok([...train].every((r) => !validGroups.has(groups[r])));
    await one.fit(X, y, { groups });
    const two = await make().fit(X, y, { groups });
    assert.deepEqual(
      one.trainHistory.map((r) => [r.trainLoss, r.validLoss]),
      two.trainHistory.map((r) => [r.trainLoss, r.validLoss]),
    );
    assert.deepEqual(dataOf(await one.getWeights()), dataOf(await two.getWeights()));
  });

  test(
    `${engine}: a target missing in every row (NaN) trains nothing of its output and is left out of the loss`,
    { skip },
    async () => {
      const { X, y } = blobData(24, 5);
      const missing = 3; // output column 3
      for (let r = 0; r < 24; r++) y[r * 6 + missing] = NaN;
      const net = new NeuralNet({
        layers: tinySpec(),
        engine: await engineFor(engine),
        maxEpochs: 3,
        trainSplit: null,
        batchIteratorTrain: new BatchIterator({ batchSize: 8, shuffle: true }),
        seed: 3,
      });
      const before = dataOf(await net.getWeights());
      await net.fit(X, y);
      const after = dataOf(await net.getWeights());
      const column = (w: number[]) => w.filter((_, i) => i % 6 === missing);
      assert.deepEqual(column(after['output.W']), column(before['output.W']), "the missing column's weights");
      assert.equal(after['output.b'][missing], before['output.b'][missing]);
      assert.notDeepEqual(after['output.W'], before['output.W'], 'the other columns trained');
      // The loss is the MSE over the present targets only.
      const predictions = await net.predict(X);
      let sum = 0;
      let present = 0;
      y.forEach((t, i) => {
        if (Number.isNaN(t)) return;
        sum += (predictions[i] - t) ** 2;
        present++;
      });
      assert.equal(present, 24 * 5);
      const score = await net.score(X, y);
      assert.ok(Math.abs(score - sum / present) < 1e-5 * score, `${score} vs ${sum / present}`);
      net.dispose();
    },
  );
}
