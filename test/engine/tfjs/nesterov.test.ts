import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NamedTensor } from '../../../src/engine/engine.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';

// Lasagne's Nesterov momentum, as engine.ts defines it, computed by hand:
//   v = momentum * v - learningRate * g
//   p = p + momentum * v - learningRate * g
const SPEC = {
  layers: [
    { kind: 'input' as const, shape: [3] },
    { kind: 'dense' as const, units: 2, activation: 'linear' as const },
  ],
};
const X = Float32Array.from([0.5, -1, 2, 1, 0.25, -0.5]);
const Y = Float32Array.from([1, -1, 0.5, 2]);
const W0: NamedTensor[] = [
  { name: 'output.W', shape: [3, 2], data: Float32Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) },
  { name: 'output.b', shape: [2], data: Float32Array.from([0.05, -0.05]) },
];

function expectClose(actual: NamedTensor[], expected: Float64Array[], what: string): void {
  actual.forEach((t, i) =>
    t.data.forEach((v, j) =>
      assert.ok(Math.abs(v - expected[i][j]) < 1e-6, `${what} ${t.name}[${j}]: ${v} vs ${expected[i][j]}`),
    ),
  );
}

test('trainStep applies the Nesterov update of engine.ts, from zero and from a given velocity', async () => {
  const engine = await createTfjsEngine();
  const net = await engine.compile(SPEC);
  await net.setWeights(W0);
  const lr = 0.1;
  const m = 0.9;

  // First step: the velocity starts at zero.
  const g0 = await net.gradients(X, Y);
  const loss0 = await net.evaluateLoss(X, Y);
  const returned = await net.trainStep(X, Y, { learningRate: lr, momentum: m, dropoutSeed: 0 });
  assert.ok(Math.abs(returned - loss0) < 1e-6, 'trainStep resolves to the loss before the update');
  const v1 = g0.map((g) => Float64Array.from(g.data, (gi) => -lr * gi));
  const p1 = W0.map((w, i) => Float64Array.from(w.data, (p, j) => p + m * v1[i][j] - lr * g0[i].data[j]));
  expectClose(await net.getOptimizerState(), v1, 'velocity after step 1');
  expectClose(await net.getWeights(), p1, 'weights after step 1');

  // Second step from a velocity set by hand (as when resuming from a file).
  const vSet: NamedTensor[] = [
    { name: 'output.W', shape: [3, 2], data: Float32Array.from([0.01, 0.02, -0.03, 0.04, 0.05, -0.06]) },
    { name: 'output.b', shape: [2], data: Float32Array.from([-0.01, 0.02]) },
  ];
  await net.setOptimizerState(vSet);
  const g1 = await net.gradients(X, Y);
  await net.trainStep(X, Y, { learningRate: 0.05, momentum: 0.5, dropoutSeed: 1 });
  const v2 = vSet.map((v, i) => Float64Array.from(v.data, (vi, j) => 0.5 * vi - 0.05 * g1[i].data[j]));
  const p2 = p1.map((p, i) => Float64Array.from(p, (pi, j) => pi + 0.5 * v2[i][j] - 0.05 * g1[i].data[j]));
  expectClose(await net.getOptimizerState(), v2, 'velocity after step 2');
  expectClose(await net.getWeights(), p2, 'weights after step 2');
  net.dispose();
});

test('the dense gradient of this tiny net is the hand-derived one', async () => {
  // d/dW of mean((xW + b - y)^2) = 2/count * x^T (xW + b - y): pins the gradient the update uses.
  const engine = await createTfjsEngine();
  const net = await engine.compile(SPEC);
  await net.setWeights(W0);
  const W = W0[0].data;
  const b = W0[1].data;
  const dW = new Float64Array(6);
  const db = new Float64Array(2);
  for (let s = 0; s < 2; s++) {
    for (let u = 0; u < 2; u++) {
      let pred = b[u];
      for (let k = 0; k < 3; k++) pred += X[s * 3 + k] * W[k * 2 + u];
      const r = (2 / 4) * (pred - Y[s * 2 + u]);
      db[u] += r;
      for (let k = 0; k < 3; k++) dW[k * 2 + u] += r * X[s * 3 + k];
    }
  }
  expectClose(await net.gradients(X, Y), [dW, db], 'gradient');
  net.dispose();
});
