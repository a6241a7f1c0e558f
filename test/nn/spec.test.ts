import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import { resolveSpec } from '../../src/nn/spec.js';

test('resolveSpec computes shapes and parameter shapes of a conv net', () => {
  const spec = resolveSpec({
    layers: [
      { kind: 'input', shape: [1, 96, 96] },
      { kind: 'conv2d', filters: 32, kernelSize: 3 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 64, kernelSize: 2 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dense', units: 30, activation: 'linear' },
    ],
  });
  assert.deepEqual(
    spec.layers.map((l) => [l.name, l.outputShape]),
    [
      ['input', [1, 96, 96]],
      ['conv1', [32, 94, 94]],
      ['pool1', [32, 47, 47]],
      ['conv2', [64, 46, 46]],
      ['pool2', [64, 23, 23]],
      ['output', [30]],
    ],
  );
  assert.deepEqual(spec.layers[1].params[0].shape, [32, 1, 3, 3]);
  assert.deepEqual(spec.layers[5].params[0].shape, [64 * 23 * 23, 30]);
  assert.equal(spec.inputSize, 9216);
  assert.equal(spec.outputSize, 30);
});

test('resolveSpec names the layer whose shape does not fit', () => {
  assert.throws(
    () =>
      resolveSpec({
        layers: [
          { kind: 'input', shape: [9216] },
          { kind: 'conv2d', filters: 8, kernelSize: 3, name: 'c1' },
          { kind: 'dense', units: 2 },
        ],
      }),
    (error: unknown) => error instanceof ShapeError && error.layer === 'c1',
  );
  assert.throws(
    () =>
      resolveSpec({
        layers: [
          { kind: 'input', shape: [1, 4, 4] },
          { kind: 'conv2d', filters: 8, kernelSize: 5 },
          { kind: 'dense', units: 2 },
        ],
      }),
    /conv1.*larger than its 4x4 input/,
  );
});
