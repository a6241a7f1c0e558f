// The float64 reference checked against itself: its hand-derived gradients
// (referencePass) must match central differences of its own loss, so that
// both engines' tests measure against a yardstick that is right.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dropoutMask } from '../../src/engine/tfjs/dropout-mask.js';
import { resolveSpec, sizeOf, type NetworkSpec } from '../../src/nn/spec.js';
import {
  finiteDifferenceGradients,
  randomArray,
  randomParams,
  referenceForward,
  referenceLoss,
  referencePass,
  referenceStateUpdate,
  relativeError,
  elementwiseMismatch,
  toParams,
  type Masks,
} from './reference-net.js';

const NETS: Record<string, NetworkSpec> = {
  'conv 3x2 relu + pool 2 + conv 2x2 linear + dropout + dense relu + dense linear': {
    layers: [
      { kind: 'input', shape: [2, 9, 8] },
      { kind: 'conv2d', filters: 3, kernelSize: [3, 2] },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 4, kernelSize: 2, activation: 'linear' },
      { kind: 'dropout', rate: 0.5, name: 'drop' },
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
  'conv 3x3 same stride 2 + batch norm relu + conv explicit pad leaky relu + avg pool + global avg pool + dense':
    {
      layers: [
        { kind: 'input', shape: [2, 9, 8] },
        { kind: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', stride: 2, activation: 'linear' },
        { kind: 'batchnorm', activation: 'relu' },
        {
          kind: 'conv2d',
          filters: 4,
          kernelSize: [3, 2],
          padding: [2, 1],
          activation: 'leakyRelu',
          leakiness: 0.2,
        },
        { kind: 'avgpool2d', poolSize: 2 },
        { kind: 'batchnorm', activation: 'leakyRelu', leakiness: 0.1 },
        { kind: 'globalavgpool' },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  'dense + batch norm on flat features + dense leaky relu': {
    layers: [
      { kind: 'input', shape: [6] },
      { kind: 'dense', units: 5, activation: 'linear' },
      { kind: 'batchnorm', epsilon: 1e-3 },
      { kind: 'dense', units: 4, activation: 'leakyRelu' },
      { kind: 'dense', units: 2, activation: 'linear' },
    ],
  },
  'dense relu + dense linear on flat input': {
    layers: [
      { kind: 'input', shape: [7] },
      { kind: 'dense', units: 6 },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
};

const N = 3;

for (const [title, netSpec] of Object.entries(NETS)) {
  test(`analytic gradients match central differences: ${title}`, () => {
    const spec = resolveSpec(netSpec);
    const params = toParams(randomParams(spec, 5));
    const x = randomArray(N * spec.inputSize, 6);
    const y = randomArray(N * spec.outputSize, 7);
    for (let i = 0; i < y.length; i += 3) y[i] = NaN; // masked targets
    const dropouts = spec.layers.filter((l) => l.kind === 'dropout');
    const masks: Masks = new Map(
      dropouts.map((l) => [l.name, dropoutMask(9, l.name, 0.5, N * sizeOf(l.outputShape))]),
    );

    for (const m of dropouts.length > 0 ? [undefined, masks] : [undefined]) {
      const ref = referencePass(spec, params, x, y, m);
      assert.deepEqual(ref.output, referenceForward(spec, params, x, m), 'output');
      assert.equal(ref.loss, referenceLoss(spec, params, x, y, m), 'loss');
      const numerical = finiteDifferenceGradients(spec, params, x, y, 1e-6, m);
      assert.deepEqual([...ref.grads.keys()].sort(), [...numerical.keys()].sort(), 'parameter names');
      for (const [name, expected] of numerical) {
        const mismatch = elementwiseMismatch(ref.grads.get(name)!, expected, { rel: 1e-5, abs: 1e-8 });
        assert.equal(mismatch, undefined, `${name}${m ? ' (dropout masks)' : ''}: ${mismatch}`);
      }
    }
  });
}

test('all targets masked: zero loss and zero gradients', () => {
  const spec = resolveSpec(NETS['dense relu + dense linear on flat input']);
  const params = toParams(randomParams(spec, 5));
  const x = randomArray(N * spec.inputSize, 6);
  const y = new Float32Array(N * spec.outputSize).fill(NaN);
  const ref = referencePass(spec, params, x, y);
  assert.equal(ref.loss, 0);
  for (const [name, g] of ref.grads)
    assert.ok(
      g.every((v) => v === 0),
      name,
    );
});

test('batch norm: with alpha 1 the running statistics become the batch statistics, so inference equals training on that batch', () => {
  const netSpec =
    NETS[
      'conv 3x3 same stride 2 + batch norm relu + conv explicit pad leaky relu + avg pool + global avg pool + dense'
    ];
  const spec = resolveSpec({
    layers: netSpec.layers.map((l) => (l.kind === 'batchnorm' ? { ...l, alpha: 1 } : l)),
  });
  const params = toParams(randomParams(spec, 5));
  const x = randomArray(N * spec.inputSize, 6);
  const before = referenceForward(spec, params, x, undefined, false);
  const training = referenceForward(spec, params, x, undefined, true);
  assert.ok(relativeError(before, training) > 1e-3, 'random running statistics differ from the batch');
  // One layer at a time: the second batch norm's input depends on the first one's statistics.
  for (let round = 0; round < 2; round++) {
    for (const [name, value] of referenceStateUpdate(spec, params, x)) params.set(name, value);
  }
  const after = referenceForward(spec, params, x, undefined, false);
  assert.ok(relativeError(after, training) < 1e-12, `error ${relativeError(after, training)}`);
});
