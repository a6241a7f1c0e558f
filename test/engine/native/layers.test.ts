// Every layer kind, forward and gradients, against a float64 reference
// written independently of both engines (test/reference/reference-net.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { loadNativeEngine } from '../../../src/engine/native/native-engine.js';
import { randomBatch, randomWeights, resolved, skipNative } from './fixtures.js';
import { BATCH_SIZES, LAYER_CASES } from './layer-cases.js';
import { referencePass, relativeError } from '../../reference/reference-net.js';

const TOLERANCE = 1e-4;

describe('native engine layers vs float64 reference', { skip: skipNative }, () => {
  for (const layerCase of LAYER_CASES) {
    for (const n of BATCH_SIZES) {
      test(`${layerCase.name}, batch ${n}`, async () => {
        const engine = await loadNativeEngine();
        const network = await engine.compile(layerCase.spec);
        const spec = resolved(layerCase.spec);
        const weights = randomWeights(spec, 7 + n);
        await network.setWeights(weights);
        const { x, y } = randomBatch(spec, n, 11 * n, 0.1);
        const ref = referencePass(spec, weights, x, y);

        const output = await network.predict(x);
        assert.ok(
          relativeError(output, ref.output) < TOLERANCE,
          `output error ${relativeError(output, ref.output)}`,
        );
        const loss = await network.evaluateLoss(x, y);
        assert.ok(Math.abs(loss - ref.loss) <= TOLERANCE * ref.loss, `loss ${loss} vs ${ref.loss}`);

        const grads = await network.gradients(x, y);
        assert.deepEqual(
          grads.map((g) => g.name),
          weights.map((w) => w.name),
        );
        for (const grad of grads) {
          const expected = ref.grads.get(grad.name)!;
          const error = relativeError(grad.data, expected);
          assert.ok(error < TOLERANCE, `${grad.name}: relative error ${error}`);
        }
        network.dispose();
      });
    }
  }
});
