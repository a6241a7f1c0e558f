import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine, Network } from '../../../src/engine/engine.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import type { NetworkSpec } from '../../../src/nn/spec.js';
import {
  randomArray,
  randomParams,
  referenceLoss,
  notClose,
  toParams,
} from '../../reference/reference-net.js';

const SPEC: NetworkSpec = {
  layers: [
    { kind: 'input', shape: [1, 8, 8] },
    { kind: 'conv2d', filters: 3, kernelSize: 3 },
    { kind: 'maxpool2d', poolSize: 2 },
    { kind: 'dense', units: 6 },
    { kind: 'dense', units: 4, activation: 'linear' },
  ],
};

let engine: Engine;
let net: Network;
const n = 3;
let x: Float32Array;

test.before(async () => {
  engine = await createTfjsEngine();
  net = await engine.compile(SPEC);
  const weights = randomParams(net.spec, 21);
  await net.setWeights(weights);
  x = randomArray(n * 64, 22, 0, 1);
});

test.after(() => net.dispose());

test('NaN targets are left out of the loss: mean over present targets only', async () => {
  const y = randomArray(n * 4, 23);
  y[0] = NaN;
  y[5] = NaN;
  y[6] = NaN;
  const loss = await net.evaluateLoss(x, y);
  const expected = referenceLoss(net.spec, toParams(await net.getWeights()), x, y);
  assert.ok(Number.isFinite(loss));
  assert.ok(Math.abs(loss - expected) < 1e-6 * expected, `${loss} vs ${expected}`);
});

test('gradients ignore NaN targets: same as targets equal to the prediction, rescaled by the count', async () => {
  // Where a target equals the prediction its residual is 0, so the only
  // difference from masking is the denominator: all targets instead of the present ones.
  const y = randomArray(n * 4, 24);
  const missing = [1, 2, 7, 11];
  for (const i of missing) y[i] = NaN;
  const pred = await net.predict(x);
  const filled = y.map((v, i) => (Number.isNaN(v) ? pred[i] : v));
  const masked = await net.gradients(x, y);
  const unmasked = await net.gradients(x, filled);
  const present = y.length - missing.length;
  masked.forEach((g, i) => {
    const rescaled = unmasked[i].data.map((v) => (v * y.length) / present);
    const off = notClose(g.data, rescaled, { rtol: 1e-4, atol: 1e-6 });
    assert.equal(off, undefined, `${g.name}: ${off}`);
    assert.ok(
      g.data.every((v) => Number.isFinite(v)),
      `${g.name} is finite`,
    );
  });
});

test('a sample whose targets are all missing changes nothing', async () => {
  const y = randomArray(n * 4, 25);
  y.fill(NaN, 4, 8); // sample 1
  const without = {
    x: Float32Array.from([...x.subarray(0, 64), ...x.subarray(128, 192)]),
    y: Float32Array.from([...y.subarray(0, 4), ...y.subarray(8, 12)]),
  };
  assert.ok(Math.abs((await net.evaluateLoss(x, y)) - (await net.evaluateLoss(without.x, without.y))) < 1e-6);
  const a = await net.gradients(x, y);
  const b = await net.gradients(without.x, without.y);
  a.forEach((g, i) => {
    const off = notClose(g.data, b[i].data, { rtol: 1e-5, atol: 1e-7 });
    assert.equal(off, undefined, `${g.name}: ${off}`);
  });
});

test('with every target missing the loss is 0 and a step changes no weight', async () => {
  const y = new Float32Array(n * 4).fill(NaN);
  assert.equal(await net.evaluateLoss(x, y), 0);
  for (const g of await net.gradients(x, y))
    assert.ok(
      g.data.every((v) => v === 0),
      g.name,
    );
  const before = await net.getWeights();
  await net.setOptimizerState(before.map((w) => ({ ...w, data: new Float32Array(w.data.length) })));
  assert.equal(await net.trainStep(x, y, { learningRate: 0.1, momentum: 0.9, dropoutSeed: 1 }), 0);
  assert.deepEqual(await net.getWeights(), before);
});
