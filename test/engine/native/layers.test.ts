// Every layer kind, forward and gradients, against a float64 reference
// written independently of both engines (test/reference/reference-net.ts).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { loadNativeEngine } from '../../../src/engine/native/native-engine.js';
import { randomBatch, randomWeights, resolved, skipNative } from './fixtures.js';
import { BATCH_SIZES, LAYER_CASES } from './layer-cases.js';
import { notClose, referencePass } from '../../reference/reference-net.js';

/**
 * The fused first-layer kernel is AVX-512 code (native/first_layer.cc checks
 * the CPU at run time); on a CPU without avx512f oneDNN runs those layers, as
 * exactly, and the plans must not claim the fused kernel.
 */
const CPU_RUNS_FUSED_KERNEL =
  existsSync('/proc/cpuinfo') && /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

// Per element: |engine - reference| <= ATOL + RTOL * |reference|.
const RTOL = 1e-4;
const ATOL = 1e-5;

async function checkCase(layerCase: (typeof LAYER_CASES)[number], n: number, fused: boolean): Promise<void> {
  const engine = await loadNativeEngine();
  const network = await engine.compile(layerCase.spec);
  const spec = resolved(layerCase.spec);
  const weights = randomWeights(spec, 7 + n);
  await network.setWeights(weights);
  const { x, y } = randomBatch(spec, n, 11 * n, 0.1);
  const ref = referencePass(spec, weights, x, y);

  const output = await network.predict(x);
  const outputOff = notClose(output, ref.output, { rtol: RTOL, atol: ATOL });
  assert.equal(outputOff, undefined, `output: ${outputOff}`);
  const loss = await network.evaluateLoss(x, y);
  assert.ok(Math.abs(loss - ref.loss) <= RTOL * ref.loss, `loss ${loss} vs ${ref.loss}`);

  const grads = await network.gradients(x, y);
  assert.deepEqual(
    grads.map((g) => g.name),
    weights.map((w) => w.name),
  );
  for (const grad of grads) {
    const off = notClose(grad.data, ref.grads.get(grad.name)!, { rtol: RTOL, atol: ATOL });
    assert.equal(off, undefined, `${grad.name}: ${off}`);
  }
  // The fused first-layer kernel ran exactly where it should (and the CPU has it), in the inference and the training plans.
  const plans = await network.describe();
  const fusedLines = plans.split('\n').filter((line) => line.includes('conv + relu + maxpool fused'));
  assert.equal(fusedLines.length, fused && CPU_RUNS_FUSED_KERNEL ? 2 : 0, plans);
  network.dispose();
}

const isFusedCase = (name: string) => name.startsWith('fused');

describe('native engine layers vs float64 reference', { skip: skipNative }, () => {
  for (const layerCase of LAYER_CASES) {
    for (const n of BATCH_SIZES) {
      test(`${layerCase.name}, batch ${n}`, () => checkCase(layerCase, n, isFusedCase(layerCase.name)));
    }
  }
});

describe(
  'with FACEPOINTS_NATIVE_FUSION=0 the fused cases run on oneDNN primitives, as exactly',
  { skip: skipNative },
  () => {
    let before: string | undefined;
    // The addon reads the variable when it builds a plan, so setting it here reaches it.
    beforeEach(() => {
      before = process.env.FACEPOINTS_NATIVE_FUSION;
      process.env.FACEPOINTS_NATIVE_FUSION = '0';
    });
    afterEach(() => {
      if (before === undefined) delete process.env.FACEPOINTS_NATIVE_FUSION;
      else process.env.FACEPOINTS_NATIVE_FUSION = before;
    });
    for (const layerCase of LAYER_CASES.filter((c) => isFusedCase(c.name))) {
      test(`${layerCase.name}, batch ${BATCH_SIZES[BATCH_SIZES.length - 1]}, not fused`, () =>
        checkCase(layerCase, BATCH_SIZES[BATCH_SIZES.length - 1], false));
    }
  },
);
