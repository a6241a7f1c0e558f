import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../../src/engine/engine.js';
import { dropoutMask } from '../../../src/engine/tfjs/dropout-mask.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import type { NetworkSpec } from '../../../src/nn/spec.js';
import {
  randomArray,
  randomParams,
  referenceLoss,
  toParams,
  type Masks,
} from '../../reference/reference-net.js';

// Dropout after a multi-channel pool (where NHWC and NCHW orders differ) and after a dense layer.
const SPEC: NetworkSpec = {
  layers: [
    { kind: 'input', shape: [2, 8, 7] },
    { kind: 'conv2d', filters: 3, kernelSize: [3, 2] },
    { kind: 'maxpool2d', poolSize: 2 },
    { kind: 'dropout', rate: 0.3, name: 'drop_a' },
    { kind: 'dense', units: 9 },
    { kind: 'dropout', rate: 0.5, name: 'drop_b' },
    { kind: 'dense', units: 4, activation: 'linear' },
  ],
};
const WITHOUT_DROPOUT: NetworkSpec = { layers: SPEC.layers.filter((l) => l.kind !== 'dropout') };

const n = 3;
const x = randomArray(n * 2 * 8 * 7, 31, 0, 1);
const y = randomArray(n * 4, 32);
const step = (dropoutSeed: number) => ({ learningRate: 0.1, momentum: 0.9, dropoutSeed });

let engine: Engine;
test.before(async () => {
  engine = await createTfjsEngine();
});

test('the training loss uses inverted dropout with the masks of dropoutMask, in C, H, W order', async () => {
  const net = await engine.compile(SPEC);
  const weights = randomParams(net.spec, 33);
  await net.setWeights(weights);
  const seed = 1234;
  const masks: Masks = new Map([
    ['drop_a', dropoutMask(seed, 'drop_a', 0.3, n * 3 * 3 * 3)],
    ['drop_b', dropoutMask(seed, 'drop_b', 0.5, n * 9)],
  ]);
  const expected = referenceLoss(net.spec, toParams(weights), x, y, masks);
  const noDropout = referenceLoss(net.spec, toParams(weights), x, y);
  assert.ok(Math.abs(expected - noDropout) > 1e-3 * noDropout, 'the masks matter for this batch');
  const loss = await net.trainStep(x, y, step(seed));
  assert.ok(Math.abs(loss - expected) < 1e-5 * expected, `${loss} vs ${expected}`);
  net.dispose();
});

test('dropout masks drop about `rate` of the units and scale the rest by 1 / (1 - rate)', () => {
  const mask = dropoutMask(7, 'd', 0.25, 40000);
  const dropped = mask.filter((v) => v === 0).length / mask.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.01, `dropped ${dropped}`);
  assert.ok(mask.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-7));
  assert.deepEqual(dropoutMask(7, 'd', 0.25, 100), mask.subarray(0, 100));
  assert.notDeepEqual(dropoutMask(7, 'e', 0.25, 100), mask.subarray(0, 100));
});

test('a step with the same dropout seed repeats exactly; another seed gives another result', async () => {
  const net = await engine.compile(SPEC);
  const start = randomParams(net.spec, 34);
  const zero = start.map((w) => ({ ...w, data: new Float32Array(w.data.length) }));
  const after = async (seed: number) => {
    await net.setWeights(start);
    await net.setOptimizerState(zero);
    const loss = await net.trainStep(x, y, step(seed));
    return { loss, weights: await net.getWeights() };
  };
  const a = await after(5);
  const b = await after(5);
  const c = await after(6);
  assert.equal(a.loss, b.loss);
  assert.deepEqual(a.weights, b.weights);
  assert.notEqual(a.loss, c.loss);
  assert.notDeepEqual(a.weights, c.weights);
  net.dispose();
});

test('predict, evaluateLoss and gradients run without dropout', async () => {
  const withDropout = await engine.compile(SPEC);
  const plain = await engine.compile(WITHOUT_DROPOUT);
  const weights = randomParams(withDropout.spec, 35);
  await withDropout.setWeights(weights);
  await plain.setWeights(weights);
  assert.deepEqual(await withDropout.predict(x), await plain.predict(x));
  assert.equal(await withDropout.evaluateLoss(x, y), await plain.evaluateLoss(x, y));
  assert.deepEqual(await withDropout.gradients(x, y), await plain.gradients(x, y));
  withDropout.dispose();
  plain.dispose();
});
