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
  relativeError,
  toParams,
  type Masks,
} from './reference-net.js';

const TOLERANCE = 1e-6;

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
        const error = relativeError(ref.grads.get(name)!, expected);
        assert.ok(error < TOLERANCE, `${name}${m ? ' (dropout masks)' : ''}: error ${error}`);
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
