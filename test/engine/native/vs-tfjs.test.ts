// The native engine against the tfjs reference engine: every layer case's
// forward and gradients (on tfjs' cpu and wasm backends), a few net2 training
// steps from the same weights, and a model trained natively predicting
// identically on tfjs.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import type { Engine } from '../../../src/engine/engine.js';
import { loadNativeEngine, type NativeEngine } from '../../../src/engine/native/native-engine.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { initWeights } from '../../../src/nn/init.js';
import { presetSpec } from '../../../src/nn/presets.js';
import { randomBatch, randomWeights, resolved, skipNative } from './fixtures.js';
import { BATCH_SIZES, LAYER_CASES } from './layer-cases.js';
import { notClose, relativeError } from '../../reference/reference-net.js';

const TOLERANCE = 1e-4;

describe('native engine vs tfjs reference engine', { skip: skipNative }, () => {
  let native: NativeEngine;
  let tfjs: Engine;
  const backends: Record<string, Engine> = {};
  before(async () => {
    native = await loadNativeEngine();
    backends.cpu = await createTfjsEngine({ backend: 'cpu' });
    backends.wasm = await createTfjsEngine({ backend: 'wasm' });
    tfjs = backends.wasm;
  });

  for (const backend of ['cpu', 'wasm']) {
    for (const layerCase of LAYER_CASES) {
      test(`tfjs-${backend}: ${layerCase.name}: forward and gradients, batches ${BATCH_SIZES.join(', ')}`, async () => {
        const a = await native.compile(layerCase.spec);
        const b = await backends[backend].compile(layerCase.spec);
        for (const n of BATCH_SIZES) {
          const weights = randomWeights(a.spec, 30 + n);
          await a.setWeights(weights);
          await b.setWeights(weights);
          const { x, y } = randomBatch(a.spec, n, 40 + n, 0.1);
          const error = relativeError(await a.predict(x), await b.predict(x));
          assert.ok(error < TOLERANCE, `batch ${n} output: ${error}`);
          const [ga, gb] = [await a.gradients(x, y), await b.gradients(x, y)];
          assert.deepEqual(
            ga.map((g) => g.name),
            gb.map((g) => g.name),
          );
          for (let k = 0; k < ga.length; k++) {
            const off = notClose(ga[k].data, gb[k].data, { rtol: TOLERANCE, atol: 1e-5 });
            assert.equal(off, undefined, `batch ${n} ${ga[k].name}: ${off}`);
          }
        }
        a.dispose();
        b.dispose();
      });
    }
  }

  test('net2: a few training steps from the same weights give the same losses', async () => {
    const spec = presetSpec('net2', 30);
    const a = await native.compile(spec);
    const b = await tfjs.compile(spec);
    const weights = initWeights(resolved(spec), 5);
    await a.setWeights(weights);
    await b.setWeights(weights);
    const { x, y } = randomBatch(a.spec, 8, 6, 0.3);
    const options = { learningRate: 0.01, momentum: 0.9, dropoutSeed: 0 };
    for (let step = 0; step < 3; step++) {
      const [la, lb] = [await a.trainStep(x, y, options), await b.trainStep(x, y, options)];
      assert.ok(Math.abs(la - lb) <= 1e-3 * lb, `step ${step}: native ${la}, tfjs ${lb}`);
      if (step > 0) continue;
      // After one step the velocities are -lr * gradient: they must agree like the gradients do.
      const [va, vb] = [await a.getOptimizerState(), await b.getOptimizerState()];
      for (let k = 0; k < va.length; k++) {
        assert.ok(relativeError(va[k].data, vb[k].data) < TOLERANCE, `${va[k].name} velocity`);
      }
    }
    a.dispose();
    b.dispose();
  });

  test('a net2 trained natively predicts the same on tfjs (to 1e-5)', async () => {
    const spec = presetSpec('net2', 30);
    const a = await native.compile(spec);
    await a.setWeights(initWeights(resolved(spec), 9));
    const { x, y } = randomBatch(a.spec, 16, 10);
    for (let step = 0; step < 3; step++)
      await a.trainStep(x, y, { learningRate: 0.01, momentum: 0.9, dropoutSeed: step });
    const b = await tfjs.compile(spec);
    await b.setWeights(await a.getWeights());
    const [pa, pb] = [await a.predict(x), await b.predict(x)];
    let worst = 0;
    for (let i = 0; i < pa.length; i++) worst = Math.max(worst, Math.abs(pa[i] - pb[i]));
    assert.ok(worst <= 1e-5, `largest prediction difference ${worst}`);
    a.dispose();
    b.dispose();
  });
});
