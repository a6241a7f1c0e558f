// The float64 losses checked against their own definitions: hand values,
// continuity at the pieces' joins, and network gradients under every loss
// against central differences, so the engines' loss tests measure against a
// yardstick that is right.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOSS_KINDS, resolveLoss, type LossSpec } from '../../src/nn/loss.js';
import { resolveSpec, type NetworkSpec } from '../../src/nn/spec.js';
import {
  LOSS_CASES,
  lossOfError,
  lossSlope,
  referenceLossGradient,
  referenceLossValue,
} from './reference-losses.js';
import {
  finiteDifferenceGradients,
  randomArray,
  randomParams,
  referencePass,
  relativeError,
  toParams,
} from './reference-net.js';

test('the losses by hand: values at chosen errors, and 0 with nothing present', () => {
  const y = Float32Array.from([0, 0, NaN, 0]);
  const pred = [0.5, -2, 100, 0.1];
  // present errors 0.5, -2, 0.1
  assert.equal(referenceLossValue({ kind: 'mse' }, pred, y), (0.25 + 4 + 0.01) / 3);
  assert.equal(referenceLossValue({ kind: 'l1' }, pred, y), (0.5 + 2 + 0.1) / 3);
  assert.ok(
    Math.abs(referenceLossValue({ kind: 'smooth-l1', beta: 1 }, pred, y) - (0.125 + 1.5 + 0.005) / 3) < 1e-15,
  );
  const w = 1;
  const eps = 0.5;
  const c = w - w * Math.log(1 + w / eps);
  const wing = referenceLossValue({ kind: 'wing', w, epsilon: eps }, pred, y);
  assert.ok(Math.abs(wing - (w * Math.log(2) + (2 - c) + w * Math.log(1.2)) / 3) < 1e-15);
  const grad = referenceLossGradient({ kind: 'l1' }, pred, y);
  assert.deepEqual([...grad], [1 / 3, -1 / 3, 0, 1 / 3]);
  const none = new Float32Array(4).fill(NaN);
  for (const kind of LOSS_KINDS) {
    assert.equal(referenceLossValue({ kind } as LossSpec, pred, none), 0);
    assert.ok(referenceLossGradient({ kind } as LossSpec, pred, none).every((g) => g === 0));
  }
});

test('smooth L1 and wing are continuous where their pieces join; smooth L1 has a continuous slope too', () => {
  const smooth = resolveLoss({ kind: 'smooth-l1', beta: 0.3 });
  const wing = resolveLoss({ kind: 'wing', w: 0.5, epsilon: 0.1 });
  for (const [loss, join] of [
    [smooth, 0.3],
    [wing, 0.5],
  ] as const) {
    for (const s of [1, -1]) {
      assert.ok(
        Math.abs(lossOfError(loss, s * (join - 1e-12)) - lossOfError(loss, s * (join + 1e-12))) < 1e-9,
      );
    }
  }
  assert.ok(Math.abs(lossSlope(smooth, 0.3 - 1e-12) - lossSlope(smooth, 0.3 + 1e-12)) < 1e-9);
  assert.equal(lossSlope(resolveLoss('l1'), 0), 0);
  assert.equal(lossSlope(wing, 0), 0);
});

const NETS: Record<string, NetworkSpec> = {
  'conv + pool + dense': {
    layers: [
      { kind: 'input', shape: [1, 7, 6] },
      { kind: 'conv2d', filters: 3, kernelSize: 2 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dense', units: 5 },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
  'dense on flat input': {
    layers: [
      { kind: 'input', shape: [6] },
      { kind: 'dense', units: 5 },
      { kind: 'dense', units: 6, activation: 'linear' },
    ],
  },
};

for (const loss of LOSS_CASES) {
  for (const [title, netSpec] of Object.entries(NETS)) {
    test(`analytic gradients match central differences: ${loss.kind} loss, ${title}`, () => {
      const spec = resolveSpec(netSpec);
      const params = toParams(randomParams(spec, 15));
      const x = randomArray(4 * spec.inputSize, 16);
      const y = randomArray(4 * spec.outputSize, 17);
      for (let i = 1; i < y.length; i += 4) y[i] = NaN;
      const ref = referencePass(spec, params, x, y, undefined, loss);
      // The errors straddle every join, so each piece of the loss is exercised.
      const resolved = resolveLoss(loss);
      const join = resolved.kind === 'smooth-l1' ? resolved.beta : resolved.kind === 'wing' ? resolved.w : 0;
      const errors = [...ref.output].map((p, i) => Math.abs(p - y[i])).filter((e) => !Number.isNaN(e));
      if (join > 0) assert.ok(errors.some((e) => e < join) && errors.some((e) => e > join), 'both pieces');
      const numerical = finiteDifferenceGradients(spec, params, x, y, 1e-6, undefined, loss);
      for (const [name, expected] of numerical) {
        const error = relativeError(ref.grads.get(name)!, expected);
        assert.ok(error < 1e-6, `${name}: error ${error}`);
      }
    });
  }
}
