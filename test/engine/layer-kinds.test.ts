// Issue 13's layer kinds (conv2d with padding and stride, batch norm, average
// and global average pooling, leaky relu) and the soft-argmax head, on both
// engines against the float64 reference (itself checked against central differences in
// test/reference/reference-net.test.ts), at batch 1, 7 and 128, element by
// element: inference outputs and loss, training-mode gradients, and one
// training step's new weights and running statistics.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import type { Engine, Network } from '../../src/engine/engine.js';
import { loadNativeEngine } from '../../src/engine/native/native-engine.js';
import { createTfjsEngine } from '../../src/engine/tfjs/tfjs-engine.js';
import { resolveSpec, weightInfos, type NetworkSpec } from '../../src/nn/spec.js';
import {
  notClose,
  randomArray,
  randomParams,
  referenceForward,
  referenceLoss,
  referencePass,
  referenceStateUpdate,
  toParams,
} from '../reference/reference-net.js';
import { skipNative } from './native/fixtures.js';

export const NEW_LAYER_NETS: Record<string, NetworkSpec> = {
  'conv same stride 2 + batch norm relu + conv explicit pad leaky relu + avg pool + batch norm leaky + global avg pool + dense':
    {
      layers: [
        { kind: 'input', shape: [2, 10, 9] },
        { kind: 'conv2d', filters: 5, kernelSize: 3, padding: 'same', stride: 2, activation: 'linear' },
        { kind: 'batchnorm', activation: 'relu' },
        {
          kind: 'conv2d',
          filters: 6,
          kernelSize: [3, 2],
          padding: [2, 1],
          activation: 'leakyRelu',
          leakiness: 0.2,
        },
        { kind: 'avgpool2d', poolSize: 2 },
        { kind: 'batchnorm', activation: 'leakyRelu', leakiness: 0.1, alpha: 0.3 },
        { kind: 'globalavgpool' },
        { kind: 'dense', units: 4, activation: 'linear' },
      ],
    },
  'conv same relu (16 filters) + max pool + conv stride 2 + batch norm relu + max pool + dense': {
    layers: [
      { kind: 'input', shape: [1, 12, 12] },
      { kind: 'conv2d', filters: 16, kernelSize: 3, padding: 'same' },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 8, kernelSize: 2, stride: 2, activation: 'linear' },
      { kind: 'batchnorm', activation: 'relu', epsilon: 1e-3 },
      { kind: 'maxpool2d', poolSize: 1 },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
  },
  'conv same relu + conv stride 2 + batch norm relu + conv 1x1 + soft-argmax (3 heatmaps, non-square)': {
    layers: [
      { kind: 'input', shape: [1, 12, 10] },
      { kind: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' },
      { kind: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', stride: 2, activation: 'linear' },
      { kind: 'batchnorm', activation: 'relu' },
      { kind: 'conv2d', filters: 3, kernelSize: 1, activation: 'linear' },
      { kind: 'softargmax' },
    ],
  },
  'conv same 16 filters (a blocked layout) + soft-argmax straight after': {
    layers: [
      { kind: 'input', shape: [2, 6, 6] },
      { kind: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'linear' },
      { kind: 'softargmax' },
    ],
  },
  'dense + batch norm on features + dense leaky relu + dense': {
    layers: [
      { kind: 'input', shape: [7] },
      { kind: 'dense', units: 6, activation: 'linear' },
      { kind: 'batchnorm' },
      { kind: 'dense', units: 5, activation: 'leakyRelu' },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
  },
};

const BATCHES = [1, 7, 128];
const OUTPUT = { rel: 1e-4, abs: 1e-5 };
const LR = 0.05;
const MOMENTUM = 0.9;

/** Gradients: float32 sums over a batch, so the absolute part scales with the tensor. */
function gradTolerance(expected: Float64Array): { rel: number; abs: number } {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return { rel: 1e-3, abs: 1e-5 + 1e-4 * scale };
}

function check(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { rel: number; abs: number },
  what: string,
) {
  const mismatch = notClose(actual, expected, { rtol: tol.rel, atol: tol.abs });
  assert.equal(mismatch, undefined, `${what}: ${mismatch}`);
}

async function checkNet(engine: Engine, netSpec: NetworkSpec, n: number): Promise<void> {
  const spec = resolveSpec(netSpec);
  const network: Network = await engine.compile(netSpec);
  try {
    const weights = randomParams(spec, 10 + n);
    const params = toParams(weights);
    await network.setWeights(weights);
    const x = randomArray(n * spec.inputSize, 20 + n);
    const y = randomArray(n * spec.outputSize, 30 + n);
    for (let i = 0; i < y.length; i += 4) y[i] = NaN;

    check(
      await network.predict(x),
      referenceForward(spec, params, x, undefined, false),
      OUTPUT,
      `batch ${n} predict`,
    );
    const loss = referenceLoss(spec, params, x, y, undefined, false);
    check([await network.evaluateLoss(x, y)], [loss], OUTPUT, `batch ${n} evaluateLoss`);

    const ref = referencePass(spec, params, x, y);
    const grads = await network.gradients(x, y);
    const trainable = weightInfos(spec).filter((w) => w.trainable);
    assert.deepEqual(
      grads.map((g) => g.name),
      trainable.map((w) => w.key),
    );
    for (const g of grads) {
      const expected = ref.grads.get(g.name)!;
      check(g.data, expected, gradTolerance(expected), `batch ${n} gradient ${g.name}`);
    }
    // gradients() updates nothing, running statistics included.
    for (const w of await network.getWeights()) {
      assert.deepEqual(w.data, weights.find((t) => t.name === w.name)!.data, `${w.name} after gradients()`);
    }

    const stepLoss = await network.trainStep(x, y, { learningRate: LR, momentum: MOMENTUM, dropoutSeed: 1 });
    check([stepLoss], [ref.loss], OUTPUT, `batch ${n} trainStep loss`);
    const state = referenceStateUpdate(spec, params, x);
    const after = new Map((await network.getWeights()).map((w) => [w.name, w.data]));
    for (const info of weightInfos(spec)) {
      const before = params.get(info.key)!;
      if (info.trainable) {
        // Nesterov from zero velocity: p - lr * (1 + m) * g.
        const g = ref.grads.get(info.key)!;
        const expected = before.map((p, i) => p - LR * (1 + MOMENTUM) * g[i]);
        const tol = gradTolerance(g);
        check(
          after.get(info.key)!,
          expected,
          { rel: 1e-4, abs: LR * (1 + MOMENTUM) * tol.abs + 1e-6 },
          `batch ${n} step ${info.key}`,
        );
      } else {
        check(
          after.get(info.key)!,
          state.get(info.key)!,
          { rel: 1e-4, abs: 1e-5 },
          `batch ${n} step ${info.key}`,
        );
      }
    }
    // Inference after the step sees the new weights and statistics (the native engine refolds batch norm).
    const stepped = toParams(await network.getWeights());
    check(
      await network.predict(x),
      referenceForward(spec, stepped, x, undefined, false),
      OUTPUT,
      `batch ${n} predict after the step`,
    );
  } finally {
    network.dispose();
  }
}

const ENGINES: Record<string, { skip: string | false; open: () => Promise<Engine> }> = {
  native: { skip: skipNative, open: () => loadNativeEngine({ threads: 1 }) },
  'tfjs-wasm': { skip: false, open: () => createTfjsEngine({ backend: 'wasm' }) },
};

for (const [engineName, { skip, open }] of Object.entries(ENGINES)) {
  describe(`${engineName}: new layer kinds against the float64 reference`, { skip }, () => {
    let engine: Engine;
    before(async () => {
      engine = await open();
    });
    for (const [title, netSpec] of Object.entries(NEW_LAYER_NETS)) {
      test(`${title}: batches ${BATCHES.join(', ')}`, async () => {
        for (const n of BATCHES) await checkNet(engine, netSpec, n);
      });
    }
  });
}

describe('native: batch norm folded into the convolution for inference', { skip: skipNative }, () => {
  const netSpec =
    NEW_LAYER_NETS[
      'conv same stride 2 + batch norm relu + conv explicit pad leaky relu + avg pool + batch norm leaky + global avg pool + dense'
    ];
  test('describe() shows the fold; FACEPOINTS_NATIVE_FUSION=0 computes the same without it', async () => {
    const spec = resolveSpec(netSpec);
    const weights = randomParams(spec, 3);
    const x = randomArray(5 * spec.inputSize, 4);
    const engine = await loadNativeEngine({ threads: 1 });
    const fused = await engine.compile(netSpec);
    await fused.setWeights(weights);
    const withFold = await fused.predict(x);
    assert.match(await fused.describe(), /conv1\+bn1: batch norm and its relu folded into the convolution/);
    fused.dispose();
    const previous = process.env.FACEPOINTS_NATIVE_FUSION;
    process.env.FACEPOINTS_NATIVE_FUSION = '0';
    try {
      const plain = await engine.compile(netSpec);
      await plain.setWeights(weights);
      const without = await plain.predict(x);
      assert.doesNotMatch(await plain.describe(), /folded/);
      plain.dispose();
      check(withFold, without, { rel: 1e-5, abs: 1e-6 }, 'fused vs unfused');
      check(
        without,
        referenceForward(spec, toParams(weights), x, undefined, false),
        OUTPUT,
        'unfused vs reference',
      );
    } finally {
      if (previous === undefined) delete process.env.FACEPOINTS_NATIVE_FUSION;
      else process.env.FACEPOINTS_NATIVE_FUSION = previous;
    }
  });
});
