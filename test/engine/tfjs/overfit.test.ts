import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { initWeights } from '../../../src/nn/init.js';
import { randomArray } from '../../reference/reference-net.js';

test('a tiny conv net overfits a fixed batch', async () => {
  const engine = await createTfjsEngine();
  const net = await engine.compile({
    layers: [
      { kind: 'input', shape: [1, 12, 12] },
      { kind: 'conv2d', filters: 4, kernelSize: 3 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 8, kernelSize: 2 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dense', units: 32 },
      { kind: 'dense', units: 6, activation: 'linear' },
    ],
  });
  await net.setWeights(initWeights(net.spec, 5));
  const n = 8;
  const x = randomArray(n * 144, 6, 0, 1);
  const y = randomArray(n * 6, 7, -0.5, 0.5);
  y[3] = NaN;
  const first = await net.evaluateLoss(x, y);
  let last = first;
  for (let step = 0; step < 300; step++) {
    last = await net.trainStep(x, y, { learningRate: 0.05, momentum: 0.9, dropoutSeed: step });
  }
  last = await net.evaluateLoss(x, y);
  assert.ok(last < first / 50, `loss ${first} -> ${last}`);
  net.dispose();
});
