// The layer kinds' shape rules (src/nn/layers/), as resolveSpec reports them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import { initWeights } from '../../src/nn/init.js';
import { softArgmaxGrid } from '../../src/nn/layers/soft-argmax.js';
import { resolveSpec, weightInfos, type LayerSpec } from '../../src/nn/spec.js';

const on = (shape: number[], ...layers: LayerSpec[]) =>
  resolveSpec({
    layers: [{ kind: 'input', shape }, ...layers, { kind: 'dense', units: 2, activation: 'linear' }],
  }).layers;

test("conv2d 'same' padding: out = ceil(in / stride), the odd zero at the bottom and right", () => {
  const [, a, b, c] = on(
    [1, 96, 96],
    { kind: 'conv2d', filters: 4, kernelSize: 3, padding: 'same' },
    { kind: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', stride: 2 },
    { kind: 'conv2d', filters: 4, kernelSize: [3, 2], padding: 'same', stride: [2, 3] },
  );
  assert.deepEqual(
    [a.outputShape, 'padding' in a && a.padding],
    [
      [4, 96, 96],
      [1, 1, 1, 1],
    ],
  );
  assert.deepEqual(
    [b.outputShape, 'padding' in b && b.padding],
    [
      [4, 48, 48],
      [0, 1, 0, 1],
    ],
  );
  // 48 / 2 -> 24 rows: 23 * 2 + 3 - 48 = 1; 48 / 3 -> 16 columns: 15 * 3 + 2 - 48 = -1 -> none.
  assert.deepEqual(
    [c.outputShape, 'padding' in c && c.padding],
    [
      [4, 24, 16],
      [0, 1, 0, 0],
    ],
  );
});

test('conv2d explicit padding and stride', () => {
  const [, a] = on([2, 9, 8], { kind: 'conv2d', filters: 3, kernelSize: [3, 2], padding: [2, 1], stride: 2 });
  // rows: floor((9 + 4 - 3) / 2) + 1 = 6; columns: floor((8 + 2 - 2) / 2) + 1 = 5.
  assert.deepEqual(a.outputShape, [3, 6, 5]);
  assert.deepEqual('stride' in a && a.stride, [2, 2]);
  assert.throws(
    () => on([1, 8, 8], { kind: 'conv2d', filters: 1, kernelSize: 2, padding: 2 }),
    (e: unknown) => e instanceof ShapeError && /conv1.*smaller than the kernel/.test(e.message),
  );
  assert.throws(
    () => on([1, 8, 8], { kind: 'conv2d', filters: 1, kernelSize: 2, padding: -1 }),
    /padding must be 'valid', 'same', a non-negative integer/,
  );
  assert.throws(
    () => on([1, 8, 8], { kind: 'conv2d', filters: 1, kernelSize: 2, stride: 0 }),
    /stride must be/,
  );
});

test('pooling kinds and leaky relu', () => {
  const [, avg, gap, dense] = on(
    [3, 7, 5],
    { kind: 'avgpool2d', poolSize: 2 },
    { kind: 'globalavgpool' },
    { kind: 'dense', units: 4, activation: 'leakyRelu' },
  );
  assert.deepEqual(avg.outputShape, [3, 3, 2]);
  assert.deepEqual(gap.outputShape, [3]);
  assert.deepEqual('leakiness' in dense && [dense.activation, dense.leakiness], ['leakyRelu', 0.01]);
  assert.throws(
    () => on([5], { kind: 'globalavgpool' }),
    /globalavgpool needs a \[channels, height, width\]/,
  );
  assert.throws(
    () => on([5], { kind: 'dense', units: 3, activation: 'relu', leakiness: 0.1 }),
    /leakiness is an option of activation 'leakyRelu' only/,
  );
});

test('batch norm: per channel or feature; gamma and beta trainable, mean and var state; initial identity', () => {
  const spec = resolveSpec({
    layers: [
      { kind: 'input', shape: [3, 4, 4] },
      { kind: 'batchnorm', activation: 'relu' },
      { kind: 'globalavgpool' },
      { kind: 'batchnorm', name: 'bnflat' },
      { kind: 'dense', units: 2, activation: 'linear' },
    ],
  });
  assert.deepEqual(
    weightInfos(spec).map((w) => [w.key, w.shape, w.trainable]),
    [
      ['bn1.gamma', [3], true],
      ['bn1.beta', [3], true],
      ['bn1.mean', [3], false],
      ['bn1.var', [3], false],
      ['bnflat.gamma', [3], true],
      ['bnflat.beta', [3], true],
      ['bnflat.mean', [3], false],
      ['bnflat.var', [3], false],
      ['output.W', [3, 2], true],
      ['output.b', [2], true],
    ],
  );
  const init = Object.fromEntries(initWeights(spec, 1).map((w) => [w.name, [...w.data]]));
  assert.deepEqual(
    [init['bn1.gamma'], init['bn1.beta'], init['bn1.mean'], init['bn1.var']],
    [
      [1, 1, 1],
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 1],
    ],
  );
  assert.throws(() => on([3], { kind: 'batchnorm', epsilon: 0 }), /epsilon must be a positive number/);
  assert.throws(() => on([3], { kind: 'batchnorm', alpha: 2 }), /alpha must be in \[0, 1\]/);
});

test('softargmax: [C, H, W] heatmaps -> 2C outputs, its cells centred in the input frame, no tensors', () => {
  const spec = resolveSpec({
    layers: [
      { kind: 'input', shape: [1, 96, 80] },
      { kind: 'conv2d', filters: 5, kernelSize: 3, padding: 'same', stride: 8, activation: 'linear' },
      { kind: 'softargmax' },
    ],
  });
  const head = spec.layers[2];
  assert.equal(head.name, 'output');
  assert.deepEqual(head.inputShape, [5, 12, 10]);
  assert.deepEqual(head.outputShape, [10]);
  assert.deepEqual('frame' in head && head.frame, [96, 80]);
  assert.deepEqual(head.params, []);
  assert.deepEqual(
    weightInfos(spec).map((w) => w.key),
    ['conv1.W', 'conv1.b'],
  );
  // 12 cells over the 96 frame: the first is centred on pixel 3.5, the last on 91.5; (v - 48) / 48.
  const grid = softArgmaxGrid(12, 96);
  assert.equal(grid[0], (3.5 - 48) / 48);
  assert.equal(grid[11], (91.5 - 48) / 48);
  assert.ok(Math.abs(grid[5] + grid[6] - 2 * ((47.5 - 48) / 48)) < 1e-12, 'symmetric about pixel 47.5');
  assert.throws(() => on([7], { kind: 'softargmax' }), /softargmax needs a \[channels, height, width\]/);
});
