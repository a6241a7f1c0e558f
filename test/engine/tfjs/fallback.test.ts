import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { initWeights } from '../../../src/nn/init.js';
import { randomArray } from '../../reference/reference-net.js';

// Its own file, hence its own process: the wasm backend must not have been initialised yet.
test('where the .wasm file cannot load, the engine quietly falls back to the cpu backend and still trains', async () => {
  const printed: unknown[][] = [];
  const saved = { log: console.log, warn: console.warn, error: console.error };
  console.log = console.warn = console.error = (...args: unknown[]) => void printed.push(args);
  let engine;
  try {
    engine = await createTfjsEngine({ wasmPaths: '/nonexistent-facepoints-wasm/' });
  } finally {
    Object.assign(console, saved);
  }
  assert.equal(engine.name, 'tfjs-cpu');
  assert.match(engine.fallbackReason ?? '', /nonexistent-facepoints-wasm/);
  assert.deepEqual(printed, [], 'nothing printed');

  const net = await engine.compile({
    layers: [
      { kind: 'input', shape: [1, 6, 6] },
      { kind: 'conv2d', filters: 2, kernelSize: 3 },
      { kind: 'dense', units: 2, activation: 'linear' },
    ],
  });
  assert.equal(net.engineName, 'tfjs-cpu');
  await net.setWeights(initWeights(net.spec, 1));
  const x = randomArray(4 * 36, 2, 0, 1);
  const y = randomArray(4 * 2, 3, -0.5, 0.5);
  const first = await net.evaluateLoss(x, y);
  for (let i = 0; i < 100; i++)
    await net.trainStep(x, y, { learningRate: 0.05, momentum: 0.9, dropoutSeed: i });
  assert.ok((await net.evaluateLoss(x, y)) < first / 5);
  net.dispose();
});
