import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { ibug68, kaggle15 } from '../../src/data/schemas.js';
import { presetSpec } from '../../src/nn/presets.js';
import { averageWithMirror, flipPairsOfColumns, mirrorImages } from '../../src/predict/flip-average.js';
import { loadPredictor } from '../../src/predict/predictor.js';
import { Rng } from '../../src/random/rng.js';
import { flipSamples } from '../../src/train/flip-batch-iterator.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { tfjsEngine } from '../train/fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'facepoints-flip-average-'));
after(() => rm(dir, { recursive: true, force: true }));

test('averaging with the mirror undoes a mirror exactly: a mirror-consistent prediction comes back unchanged', () => {
  const rng = new Rng(2);
  const columns = ibug68.columns.length;
  const direct = Float32Array.from({ length: 3 * columns }, () => rng.uniform(-0.8, 0.8));
  for (const rule of ['exact', 'tutorial'] as const) {
    // What a perfectly mirror-consistent net predicts on the mirror images.
    const onMirror = Float32Array.from(direct);
    flipSamples(
      new Float32Array(3 * 96 * 96),
      onMirror,
      [0, 1, 2],
      [1, 96, 96],
      ibug68.columnFlipPairs,
      rule,
    );
    const averaged = averageWithMirror(direct, onMirror, columns, ibug68.columnFlipPairs, rule);
    for (let i = 0; i < direct.length; i++)
      assert.ok(Math.abs(averaged[i] - direct[i]) < 1e-6, `${rule} ${i}`);
  }
  // Mirroring images twice is the identity.
  const images = Float32Array.from({ length: 2 * 96 * 96 }, () => rng.next());
  assert.deepEqual(mirrorImages(mirrorImages(images)), images);
  assert.equal(mirrorImages(images)[95], images[0]);
});

test('flip pairs of a column subset: closed subsets keep their pairs, a left point without its right one has none', () => {
  assert.deepEqual(flipPairsOfColumns(kaggle15, kaggle15.columns), kaggle15.columnFlipPairs);
  const eyes = kaggle15.columns.slice(0, 4);
  assert.deepEqual(flipPairsOfColumns(kaggle15, eyes), [
    [0, 2],
    [1, 3],
  ]);
  assert.deepEqual(flipPairsOfColumns(kaggle15, ['nose_tip_x', 'nose_tip_y']), []);
  assert.equal(flipPairsOfColumns(kaggle15, kaggle15.columns.slice(0, 2)), undefined);
});

async function saveNet(name: string, metadata: Record<string, unknown>): Promise<NeuralNet> {
  const net = new NeuralNet({
    layers: presetSpec('net1', ibug68.columns.length),
    engine: await tfjsEngine(),
    seed: 4,
    metadata: { schema: 'ibug68', columns: ibug68.columns, ...metadata },
  });
  await net.initialize();
  await net.save(join(dir, name));
  return net;
}

test('predictors average over flips by default for nets trained with mirroring, and not when told not to', async () => {
  const rng = new Rng(3);
  const images = Float32Array.from({ length: 4 * 96 * 96 }, () => rng.next());
  const net = await saveNet('mirrored.fpm', { trainedWithMirror: true, mirror: 'exact' });
  const direct = await net.predict(images);
  const expected = averageWithMirror(
    direct,
    await net.predict(mirrorImages(images)),
    ibug68.columns.length,
    ibug68.columnFlipPairs,
    'exact',
  );
  const engine = 'tfjs' as const;
  const auto = await loadPredictor(join(dir, 'mirrored.fpm'), { engine });
  assert.equal(auto.flipTest, true);
  assert.deepEqual(await auto.predict(images), expected);
  const off = await loadPredictor(join(dir, 'mirrored.fpm'), { engine, flipTest: false });
  assert.equal(off.flipTest, false);
  assert.deepEqual(await off.predict(images), direct);
  // A net trained without mirrors is left alone unless asked.
  await saveNet('plain.fpm', {});
  assert.equal((await loadPredictor(join(dir, 'plain.fpm'), { engine })).flipTest, false);
  assert.equal((await loadPredictor(join(dir, 'plain.fpm'), { engine, flipTest: true })).flipTest, true);
  for (const p of [auto, off]) p.dispose();
});
