import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { initWeights } from '../../../src/nn/init.js';
import { randomArray } from '../../reference/reference-net.js';

test('no tensor outlives a call: repeated steps keep tf.memory() flat, dispose frees everything', async () => {
  const engine = await createTfjsEngine();
  const baseline = tf.memory();
  const net = await engine.compile({
    layers: [
      { kind: 'input', shape: [2, 10, 10] },
      { kind: 'conv2d', filters: 4, kernelSize: 3 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dropout', rate: 0.2 },
      { kind: 'conv2d', filters: 5, kernelSize: 2 },
      { kind: 'dense', units: 8 },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
  });
  await net.setWeights(initWeights(net.spec, 1));
  const x = randomArray(4 * 200, 2, 0, 1);
  const y = randomArray(4 * 3, 3);
  y[2] = NaN;
  const round = async (i: number) => {
    await net.trainStep(x, y, { learningRate: 0.01, momentum: 0.9, dropoutSeed: i });
    await net.predict(x);
    await net.evaluateLoss(x, y);
    await net.gradients(x, y);
    await net.setWeights(await net.getWeights());
    await net.setOptimizerState(await net.getOptimizerState());
  };
  await round(0);
  const settled = tf.memory();
  // 8 parameters (W and b of 4 layers), each with a velocity: 16 variables and nothing else.
  assert.equal(settled.numTensors - baseline.numTensors, 16);
  for (let i = 1; i <= 10; i++) await round(i);
  const after = tf.memory();
  assert.equal(after.numTensors, settled.numTensors);
  assert.equal(after.numBytes, settled.numBytes);
  net.dispose();
  assert.equal(tf.memory().numTensors, baseline.numTensors);
  assert.equal(tf.memory().numBytes, baseline.numBytes);
});
