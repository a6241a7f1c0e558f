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
  notClose,
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
  'conv 3x3 same stride 2 + batch norm relu + conv 1x1 + soft-argmax (non-square frame)': {
    layers: [
      { kind: 'input', shape: [2, 8, 10] },
      { kind: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', stride: 2, activation: 'linear' },
      { kind: 'batchnorm', activation: 'relu' },
      { kind: 'conv2d', filters: 3, kernelSize: 1, activation: 'linear' },
      { kind: 'softargmax' },
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
      const numerical = finiteDifferenceGradients(spec, params, x, y, 1e-6, m);
      assert.deepEqual([...ref.grads.keys()].sort(), [...numerical.keys()].sort(), 'parameter names');
      for (const [name, expected] of numerical) {
        const mismatch = notClose(ref.grads.get(name)!, expected, { rtol: 1e-5, atol: 1e-8 });
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

test('a net worked by hand: forward pass, loss and gradients', () => {
  // 3x3 image 0.1 .. 0.9; conv 2x2 with W = [[1, 0], [0, 0]], b = 0: the top-left pixel of each
  // window, 0.1 0.2 / 0.4 0.5 (relu keeps them); the 2x2 pool takes 0.5 (window (1, 1)); the
  // dropout mask doubles it: 1.0; dense W = [0.5], b = 0.1: 0.6; target 0.5, loss 0.1^2.
  const spec = resolveSpec({
    layers: [
      { kind: 'input', shape: [1, 3, 3] },
      { kind: 'conv2d', filters: 1, kernelSize: 2, name: 'conv' },
      { kind: 'maxpool2d', poolSize: 2, name: 'pool' },
      { kind: 'dropout', rate: 0.5, name: 'drop' },
      { kind: 'dense', units: 1, activation: 'linear', name: 'out' },
    ],
  });
  const params = new Map([
    ['conv.W', Float64Array.from([1, 0, 0, 0])],
    ['conv.b', Float64Array.from([0])],
    ['out.W', Float64Array.from([0.5])],
    ['out.b', Float64Array.from([0.1])],
  ]);
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9].map((v) => v / 10));
  const y = Float32Array.from([0.5]);
  const masks: Masks = new Map([['drop', Float32Array.from([2])]]);
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);
  close(referenceForward(spec, params, x, masks)[0], 0.6, 'output');
  close(referenceLoss(spec, params, x, y, masks), 0.01, 'loss');
  const { grads } = referencePass(spec, params, x, y, masks);
  // dL/dout = 2 * 0.1 = 0.2; out.W sees the dropout's output 1.0, out.b 1.
  close(grads.get('out.W')![0], 0.2, 'out.W');
  close(grads.get('out.b')![0], 0.2, 'out.b');
  // Back through the dense (x 0.5) and the mask (x 2): 0.2 reaches the pool's winner, the conv
  // output at (1, 1), whose window is 0.5 0.6 / 0.8 0.9.
  [0.5, 0.6, 0.8, 0.9].forEach((v, i) => close(grads.get('conv.W')![i], 0.2 * v, `conv.W[${i}]`));
  close(grads.get('conv.b')![0], 0.2, 'conv.b');
});
