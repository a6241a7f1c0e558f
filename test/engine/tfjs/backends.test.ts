import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NamedTensor } from '../../../src/engine/engine.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { initWeights } from '../../../src/nn/init.js';
import type { NetworkSpec } from '../../../src/nn/spec.js';
import { randomArray, relativeError } from '../../reference/reference-net.js';

// net2's structure (conv 3x3 / 2x2 / 2x2, each + pool 2, two hidden dense
// layers), shrunk to a 24x24 input; with dropout, as net6 has.
const NET2_LIKE: NetworkSpec = {
  layers: [
    { kind: 'input', shape: [1, 24, 24] },
    { kind: 'conv2d', filters: 4, kernelSize: 3 },
    { kind: 'maxpool2d', poolSize: 2 },
    { kind: 'dropout', rate: 0.1 },
    { kind: 'conv2d', filters: 6, kernelSize: 2 },
    { kind: 'maxpool2d', poolSize: 2 },
    { kind: 'conv2d', filters: 8, kernelSize: [2, 3] },
    { kind: 'maxpool2d', poolSize: 2 },
    { kind: 'dense', units: 10 },
    { kind: 'dropout', rate: 0.5 },
    { kind: 'dense', units: 10 },
    { kind: 'dense', units: 5, activation: 'linear' },
  ],
};

function assertClose(a: NamedTensor[], b: NamedTensor[], tolerance: number, what: string): void {
  assert.deepEqual(
    a.map((t) => t.name),
    b.map((t) => t.name),
  );
  a.forEach((t, i) => {
    const err = relativeError(t.data, b[i].data);
    assert.ok(err < tolerance, `${what} ${t.name}: relative difference ${err.toExponential(2)}`);
  });
}

test('the wasm and cpu backends agree on predictions, gradients and training of a net2-like net', async () => {
  const n = 3;
  const x = randomArray(n * 24 * 24, 1, 0, 1);
  const y = randomArray(n * 5, 2);
  y[3] = NaN;
  const results = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    const engine = await createTfjsEngine({ backend });
    assert.equal(engine.name, `tfjs-${backend}`);
    const net = await engine.compile(NET2_LIKE);
    await net.setWeights(initWeights(net.spec, 11));
    const predictions = await net.predict(x);
    const gradients = await net.gradients(x, y);
    const losses = [];
    for (let step = 0; step < 3; step++) {
      losses.push(await net.trainStep(x, y, { learningRate: 0.05, momentum: 0.9, dropoutSeed: step }));
    }
    results.push({
      predictions,
      gradients,
      losses,
      weights: await net.getWeights(),
      velocity: await net.getOptimizerState(),
    });
    net.dispose();
  }
  const [wasm, cpu] = results;
  assert.ok(relativeError(wasm.predictions, cpu.predictions) < 1e-5, 'predictions');
  assertClose(wasm.gradients, cpu.gradients, 1e-5, 'gradient');
  assert.ok(relativeError(wasm.losses, cpu.losses) < 1e-5, `losses ${wasm.losses} vs ${cpu.losses}`);
  assertClose(wasm.weights, cpu.weights, 1e-5, 'weights after 3 steps');
  assertClose(wasm.velocity, cpu.velocity, 1e-4, 'velocity after 3 steps');
  assert.ok(
    wasm.gradients.every((g) => g.data.some((v) => v !== 0)),
    'every gradient is used',
  );
});

test('networks on the two backends can be used at the same time', async () => {
  const wasm = await (await createTfjsEngine({ backend: 'wasm' })).compile(NET2_LIKE);
  const cpu = await (await createTfjsEngine({ backend: 'cpu' })).compile(NET2_LIKE);
  const weights = initWeights(wasm.spec, 12);
  await Promise.all([wasm.setWeights(weights), cpu.setWeights(weights)]);
  const x = randomArray(2 * 24 * 24, 13, 0, 1);
  const y = randomArray(2 * 5, 14);
  const options = { learningRate: 0.05, momentum: 0.9, dropoutSeed: 3 };
  const [lossW, lossC] = await Promise.all([wasm.trainStep(x, y, options), cpu.trainStep(x, y, options)]);
  assert.ok(Math.abs(lossW - lossC) < 1e-5 * lossC);
  const [predW, predC] = await Promise.all([wasm.predict(x), cpu.predict(x)]);
  assert.ok(relativeError(predW, predC) < 1e-5);
  wasm.dispose();
  cpu.dispose();
});
