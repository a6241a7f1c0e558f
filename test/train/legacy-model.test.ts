// Model files written before issue 13's layers (by main at e326e3a, see
// test/fixtures/make-legacy-model.ts) still load, predict what they predicted
// then on both engines, and go on training.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { loadNativeEngine } from '../../src/engine/native/native-engine.js';
import { createTfjsEngine } from '../../src/engine/tfjs/tfjs-engine.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { skipNative } from '../engine/native/fixtures.js';
import { blobData } from './fixtures.js';

const FIXTURE = new URL('../fixtures/legacy-model.fpm', import.meta.url).pathname;
const EXPECTED = new URL('../fixtures/legacy-model.predictions.json', import.meta.url).pathname;

async function expected(): Promise<{ native: number[]; tfjs: number[] }> {
  return JSON.parse(await readFile(EXPECTED, 'utf8')) as { native: number[]; tfjs: number[] };
}

function assertClose(actual: Float32Array, wanted: number[], what: string): void {
  assert.equal(actual.length, wanted.length, `${what}: length`);
  for (let i = 0; i < wanted.length; i++) {
    const tolerance = 1e-6 + 1e-5 * Math.abs(wanted[i]);
    assert.ok(
      Math.abs(actual[i] - wanted[i]) <= tolerance,
      `${what}[${i}]: ${actual[i]} vs ${wanted[i]} (tolerance ${tolerance})`,
    );
  }
}

for (const engineName of ['native', 'tfjs'] as const) {
  test(
    `a model file of the old format predicts as before and resumes (${engineName})`,
    { skip: engineName === 'native' ? skipNative : false },
    async () => {
      const engine =
        engineName === 'native' ? await loadNativeEngine({ threads: 1 }) : await createTfjsEngine();
      const net = await NeuralNet.load(FIXTURE, { engine });
      assert.equal(net.epoch, 4);
      const predictions = await net.predict(blobData(8, 99).X);
      assertClose(predictions, (await expected())[engineName], engineName);
      const { X, y } = blobData(96, 13);
      await net.fit(X, y, { epochs: 1 });
      assert.equal(net.epoch, 5);
      assert.ok(Number.isFinite(net.trainHistory[4].validLoss));
      net.dispose();
    },
  );
}
