import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine, Network } from '../../../src/engine/engine.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import type { NetworkSpec } from '../../../src/nn/spec.js';
import { randomArray, randomParams } from '../../reference/reference-net.js';

const SPEC: NetworkSpec = {
  layers: [
    { kind: 'input', shape: [2, 6, 5] },
    { kind: 'conv2d', filters: 3, kernelSize: [2, 3], name: 'c1' },
    { kind: 'dense', units: 4, activation: 'linear' },
  ],
};

let engine: Engine;
let net: Network;
test.before(async () => {
  engine = await createTfjsEngine();
  net = await engine.compile(SPEC);
  await net.setWeights(randomParams(net.spec, 1));
});
test.after(() => net.dispose());

test('the network reports its engine and its resolved spec', () => {
  assert.equal(net.engineName, engine.name);
  assert.deepEqual(net.spec.inputShape, [2, 6, 5]);
  assert.equal(net.spec.outputSize, 4);
});

test('weights and optimizer state round-trip exactly in the boundary layout, as copies', async () => {
  const weights = randomParams(net.spec, 2);
  assert.deepEqual(
    weights.map((w) => [w.name, w.shape]),
    [
      ['c1.W', [3, 2, 2, 3]],
      ['c1.b', [3]],
      ['output.W', [3 * 5 * 3, 4]],
      ['output.b', [4]],
    ],
  );
  await net.setWeights(weights);
  const back = await net.getWeights();
  assert.deepEqual(back, weights);
  back[0].data[0] += 1;
  weights[0].data[1] += 1; // neither the given nor the returned arrays are the network's own storage
  assert.notDeepEqual((await net.getWeights())[0].data, back[0].data);
  assert.notDeepEqual((await net.getWeights())[0].data, weights[0].data);

  const velocity = randomParams(net.spec, 3, 0.01);
  await net.setOptimizerState(velocity);
  assert.deepEqual(await net.getOptimizerState(), velocity);
});

test('bad batches and bad weights fail with a ShapeError naming the layer', async () => {
  await assert.rejects(
    net.predict(new Float32Array(59)),
    (e) => e instanceof ShapeError && e.layer === 'input',
  );
  await assert.rejects(net.predict(new Float32Array(0)), ShapeError);
  await assert.rejects(
    net.evaluateLoss(new Float32Array(120), new Float32Array(7)),
    (e) => e instanceof ShapeError && e.layer === 'output' && /expected 8/.test(e.message),
  );
  const weights = randomParams(net.spec, 4);
  await assert.rejects(
    net.setWeights(weights.slice(1)),
    (e) => e instanceof ShapeError && /missing 'c1.W'/.test(e.message),
  );
  await assert.rejects(
    net.setWeights([...weights, { name: 'c9.W', shape: [1], data: new Float32Array(1) }]),
    (e) => e instanceof ShapeError && /no parameter 'c9.W'/.test(e.message),
  );
  await assert.rejects(
    net.setOptimizerState(weights.map((w, i) => (i === 0 ? { ...w, shape: [3, 2, 3, 2] } : w))),
    (e) => e instanceof ShapeError && e.layer === 'c1' && /expected \[3,2,2,3\]/.test(e.message),
  );
  await assert.rejects(
    engine.compile({
      layers: [
        { kind: 'input', shape: [4] },
        { kind: 'conv2d', filters: 1, kernelSize: 1 },
      ],
    }),
    ShapeError,
  );
  await assert.rejects(createTfjsEngine({ backend: 'gpu' as 'cpu' }), ConfigError);
});

test('predicting more images than one inference chunk gives the same outputs as one by one', async () => {
  // 96x96 input and 8 filters: about 470 images per chunk, so 500 cross a seam.
  const big = await engine.compile({
    layers: [
      { kind: 'input', shape: [1, 96, 96] },
      { kind: 'conv2d', filters: 8, kernelSize: 3 },
      { kind: 'maxpool2d', poolSize: 4 },
      { kind: 'dense', units: 2, activation: 'linear' },
    ],
  });
  try {
    await big.setWeights(randomParams(big.spec, 5, 0.05));
    const n = 500;
    const x = randomArray(n * 9216, 6, 0, 1);
    const all = await big.predict(x);
    for (const i of [0, 469, 470, 471, 499]) {
      const one = await big.predict(x.subarray(i * 9216, (i + 1) * 9216));
      assert.ok(
        Math.abs(one[0] - all[2 * i]) < 1e-5 && Math.abs(one[1] - all[2 * i + 1]) < 1e-5,
        `image ${i}`,
      );
    }
    const y = randomArray(n * 2, 7);
    const loss = await big.evaluateLoss(x, y);
    let sum = 0;
    all.forEach((p, i) => (sum += (p - y[i]) ** 2));
    assert.ok(Math.abs(loss - sum / y.length) < 1e-5 * loss);
  } finally {
    big.dispose();
  }
});

test('a disposed network refuses to work', async () => {
  const other = await engine.compile(SPEC);
  other.dispose();
  await assert.rejects(other.getWeights(), /disposed/);
});
