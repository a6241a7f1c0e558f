// Native dropout, forward and backward, checked against tfjs and the float64
// reference: both engines are given the same mask function
// (CompileOptions.dropoutMask), so one training step with dropout must give
// the same loss and the same update everywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Engine, Network } from '../../../src/engine/engine.js';
import { loadNativeEngine } from '../../../src/engine/native/native-engine.js';
import { dropoutMask } from '../../../src/engine/tfjs/dropout-mask.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { type NetworkSpec, sizeOf } from '../../../src/nn/spec.js';
import {
  type Masks,
  notClose,
  randomArray,
  randomParams,
  referencePass,
  toParams,
} from '../../reference/reference-net.js';
import { skipNative } from './fixtures.js';

const NETS: Record<string, NetworkSpec> = {
  // Dropout on a 3-channel pool output (NCHW and the engine's layouts differ) and after a dense layer.
  'conv 3x2 + pool + dropout 0.3 + dense + dropout 0.5': {
    layers: [
      { kind: 'input', shape: [2, 8, 7] },
      { kind: 'conv2d', filters: 3, kernelSize: [3, 2] },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dropout', rate: 0.3, name: 'drop_a' },
      { kind: 'dense', units: 9 },
      { kind: 'dropout', rate: 0.5, name: 'drop_b' },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
  // 16 filters: the fused first layer, whose output is blocked 16 channels at a time (nChw16c).
  'fused conv 16 3x3 + pool 2 + dropout 0.1 + conv 2x2 + dropout 0.2 + dense': {
    layers: [
      { kind: 'input', shape: [1, 12, 12] },
      { kind: 'conv2d', filters: 16, kernelSize: 3 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dropout', rate: 0.1, name: 'dropout1' },
      { kind: 'conv2d', filters: 16, kernelSize: 2 },
      { kind: 'dropout', rate: 0.2, name: 'dropout2' },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
  },
};

const N = 5;
const SEED = 77;
const STEP = { learningRate: 0.1, momentum: 0.9, dropoutSeed: SEED };

async function stepOn(engine: Engine, spec: NetworkSpec, withMasks: boolean) {
  const net: Network = await engine.compile(spec, withMasks ? { dropoutMask } : {});
  const weights = randomParams(net.spec, 3);
  await net.setWeights(weights);
  await net.setOptimizerState(weights.map((w) => ({ ...w, data: new Float32Array(w.data.length) })));
  const x = randomArray(N * net.spec.inputSize, 4, 0, 1);
  const y = randomArray(N * net.spec.outputSize, 5);
  const loss = await net.trainStep(x, y, STEP);
  const after = await net.getWeights();
  net.dispose();
  return { spec: net.spec, weights, x, y, loss, after };
}

for (const [title, spec] of Object.entries(NETS)) {
  test(
    `one step with dropout: native = tfjs = float64 reference, given the same masks (${title})`,
    { skip: skipNative },
    async () => {
      const native = await stepOn(await loadNativeEngine(), spec, true);
      const tfjs = await stepOn(await createTfjsEngine(), spec, true);
      const masks: Masks = new Map(
        native.spec.layers
          .filter((l) => l.kind === 'dropout')
          .map((l) => [
            l.name,
            dropoutMask(SEED, l.name, (l as { rate: number }).rate, N * sizeOf(l.outputShape)),
          ]),
      );
      const ref = referencePass(native.spec, toParams(native.weights), native.x, native.y, masks);
      const withoutMasks = referencePass(native.spec, toParams(native.weights), native.x, native.y);
      assert.ok(Math.abs(ref.loss - withoutMasks.loss) > 1e-3 * ref.loss, 'the masks change this step');
      for (const [engine, run] of [
        ['native', native],
        ['tfjs', tfjs],
      ] as const) {
        assert.ok(
          Math.abs(run.loss - ref.loss) <= 1e-5 * ref.loss,
          `${engine} loss ${run.loss} vs ${ref.loss}`,
        );
        // From zero velocity one Nesterov step moves each parameter by -learningRate * (1 + momentum) * gradient.
        run.after.forEach((w, k) => {
          const before = run.weights[k].data;
          const moved = w.data.map((v, i) => v - before[i]);
          const expected = ref.grads.get(w.name)!.map((g) => -STEP.learningRate * (1 + STEP.momentum) * g);
          const off = notClose(moved, expected, { rtol: 1e-3, atol: 1e-6 });
          assert.equal(off, undefined, `${engine} ${w.name}: ${off}`);
        });
      }
    },
  );
}

test(
  "without the hook each engine draws its own masks: native's step differs from tfjs'",
  { skip: skipNative },
  async () => {
    const spec = NETS['conv 3x2 + pool + dropout 0.3 + dense + dropout 0.5'];
    const native = await stepOn(await loadNativeEngine(), spec, false);
    const tfjs = await stepOn(await createTfjsEngine(), spec, false);
    const given = await stepOn(await loadNativeEngine(), spec, true);
    assert.notEqual(native.loss, tfjs.loss);
    assert.notEqual(native.loss, given.loss);
    assert.ok(Math.abs(given.loss - tfjs.loss) <= 1e-5 * tfjs.loss);
  },
);
