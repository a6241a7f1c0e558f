import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../../src/engine/engine.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import type { NetworkSpec } from '../../../src/nn/spec.js';
import {
  finiteDifferenceGradients,
  randomArray,
  randomParams,
  referenceForward,
  referenceLoss,
  notClose,
  relativeError,
  toParams,
} from '../../reference/reference-net.js';

// Every layer kind: conv with non-square, square and 1x1 kernels, relu and
// linear; pools of 2 and of 3 with partial windows dropped, after relu and after linear; dense after conv
// (flatten order), after dense and on flat input; dropout (identity here).
const NETS: Record<string, NetworkSpec> = {
  'conv 3x2 + pool 2 + conv 2x2 linear + dense': {
    layers: [
      { kind: 'input', shape: [2, 9, 8] },
      { kind: 'conv2d', filters: 3, kernelSize: [3, 2] },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 4, kernelSize: 2, activation: 'linear' },
      { kind: 'dropout', rate: 0.5 },
      { kind: 'dense', units: 5 },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
  },
  'conv 1x1 + pool 3 (partial windows) + conv 1x3 + dense': {
    layers: [
      { kind: 'input', shape: [1, 11, 10] },
      { kind: 'conv2d', filters: 3, kernelSize: 1 },
      { kind: 'maxpool2d', poolSize: 3 },
      { kind: 'conv2d', filters: 4, kernelSize: [1, 3] },
      { kind: 'dense', units: 2, activation: 'linear' },
    ],
  },
  // Windows whose values are all negative: tfjs-backend-wasm's own MaxPoolGrad loses their gradient.
  'conv 2x2 linear + pool 2 + dense': {
    layers: [
      { kind: 'input', shape: [2, 8, 8] },
      { kind: 'conv2d', filters: 3, kernelSize: 2, activation: 'linear' },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
  },
  'flat input + dense relu + dense linear': {
    layers: [
      { kind: 'input', shape: [7] },
      { kind: 'dense', units: 6 },
      { kind: 'dropout', rate: 0.2 },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
};

let engine: Engine;

test.before(async () => {
  engine = await createTfjsEngine();
  assert.equal(engine.name, 'tfjs-wasm');
});

for (const [title, spec] of Object.entries(NETS)) {
  for (const n of [1, 3]) {
    test(`gradients match float64 finite differences: ${title}, batch ${n}`, async () => {
      const net = await engine.compile(spec);
      try {
        const weights = randomParams(net.spec, 7 + n);
        await net.setWeights(weights);
        const x = randomArray(n * net.spec.inputSize, 100 + n);
        const y = randomArray(n * net.spec.outputSize, 200 + n);
        y[1] = NaN; // a missing target is part of every case

        const params = toParams(weights);
        const pred = await net.predict(x);
        assert.ok(relativeError(pred, referenceForward(net.spec, params, x)) < 1e-5, 'forward pass');
        const loss = await net.evaluateLoss(x, y);
        assert.ok(Math.abs(loss - referenceLoss(net.spec, params, x, y)) < 1e-5 * Math.max(1, loss), 'loss');

        const expected = finiteDifferenceGradients(net.spec, params, x, y);
        const grads = await net.gradients(x, y);
        assert.deepEqual(
          grads.map((g) => g.name),
          [...expected.keys()],
        );
        for (const g of grads) {
          assert.ok(
            g.data.some((v) => v !== 0),
            `${g.name}: all zero, the case checks nothing (dead relus? pick other seeds)`,
          );
          const off = notClose(g.data, expected.get(g.name)!, { rtol: 1e-4, atol: 1e-5 });
          assert.equal(off, undefined, `${g.name}: ${off}`);
        }
      } finally {
        net.dispose();
      }
    });
  }
}

test('gradient agrees with the engine float32 loss along a random direction', async () => {
  // Checks the backward pass against the engine's own forward pass, independent of the reference.
  const net = await engine.compile(NETS['conv 3x2 + pool 2 + conv 2x2 linear + dense']);
  try {
    const weights = randomParams(net.spec, 3);
    const x = randomArray(3 * net.spec.inputSize, 4);
    const y = randomArray(3 * net.spec.outputSize, 5);
    await net.setWeights(weights);
    const grads = await net.gradients(x, y);
    const directions = weights.map((w, i) => randomArray(w.data.length, 50 + i));
    let slope = 0;
    grads.forEach((g, i) => g.data.forEach((v, j) => (slope += v * directions[i][j])));
    const eps = 1e-3;
    const shifted = async (sign: number): Promise<number> => {
      await net.setWeights(
        weights.map((w, i) => ({ ...w, data: w.data.map((v, j) => v + sign * eps * directions[i][j]) })),
      );
      return net.evaluateLoss(x, y);
    };
    const numeric = ((await shifted(1)) - (await shifted(-1))) / (2 * eps);
    assert.ok(Math.abs(numeric - slope) < 1e-2 * Math.abs(slope), `directional ${numeric} vs ${slope}`);
  } finally {
    net.dispose();
  }
});
