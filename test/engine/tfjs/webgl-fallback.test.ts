import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';

test("backend 'webgl' where there is no WebGL (Node) falls back to wasm and says why", async () => {
  const engine = await createTfjsEngine({ backend: 'webgl' });
  assert.equal(engine.name, 'tfjs-wasm');
  assert.match(engine.fallbackReason ?? '', /webgl backend failed/);
  const network = await engine.compile({
    layers: [
      { kind: 'input', shape: [3] },
      { kind: 'dense', units: 2, activation: 'linear' },
    ],
  });
  await network.setWeights([
    { name: 'output.W', shape: [3, 2], data: new Float32Array([1, 0, 0, 1, 1, 1]) },
    { name: 'output.b', shape: [2], data: new Float32Array([0.5, -0.5]) },
  ]);
  assert.deepEqual(Array.from(await network.predict(new Float32Array([1, 2, 3]))), [4.5, 4.5]);
  network.dispose();
});
