import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { kaggle15 } from '../../src/data/schemas.js';
import { ModelFileError } from '../../src/errors.js';
import { loadPredictor, SPECIALISTS_FILE, type SpecialistsIndex } from '../../src/predict/predictor.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { blobData, tfjsEngine, tinySpec } from '../train/fixtures.js';

let dir: string;
const eyes = kaggle15.columns.slice(0, 4); // left and right eye centres
const nose = ['nose_tip_x', 'nose_tip_y'];
const { X } = blobData(3, 1);

/** A tiny untrained net saved with the metadata every training run writes. */
async function saveNet(path: string, columns: string[], seed: number): Promise<Float32Array> {
  const net = new NeuralNet({
    layers: tinySpec(columns.length),
    engine: await tfjsEngine(),
    seed,
    verbose: 0,
    metadata: { schema: 'kaggle15', columns },
  });
  await net.initialize();
  await net.save(path);
  return net.predict(X);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'facepoints-predictor-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('loadPredictor: a model file and a run folder predict what the net predicts, in its columns', async () => {
  await mkdir(join(dir, 'run'));
  const direct = await saveNet(join(dir, 'run', 'model-best.fpm'), eyes, 3);
  for (const path of [join(dir, 'run', 'model-best.fpm'), join(dir, 'run')]) {
    const predictor = await loadPredictor(path, { engine: 'tfjs' });
    assert.equal(predictor.schema.name, 'kaggle15');
    assert.deepEqual(predictor.columns, eyes);
    assert.deepEqual(await predictor.predict(X), direct);
    predictor.dispose();
  }
});

test('loadPredictor: a specialists folder merges its models into schema column order', async () => {
  const folder = join(dir, 'specialists');
  await mkdir(folder);
  // Listed nose first: the merged columns still follow the schema (eyes before the nose tip).
  const nosePrediction = await saveNet(join(folder, 'nose.fpm'), nose, 5);
  const eyePrediction = await saveNet(join(folder, 'eyes.fpm'), eyes, 6);
  const index: SpecialistsIndex = {
    schema: 'kaggle15',
    general: 'general.fpm',
    specialists: [
      { name: 'nose-tip', model: 'nose.fpm', columns: nose },
      { name: 'eye-centers', model: 'eyes.fpm', columns: eyes },
    ],
  };
  await writeFile(join(folder, SPECIALISTS_FILE), JSON.stringify(index));
  const predictor = await loadPredictor(folder, { engine: 'tfjs' });
  const columns = kaggle15.columns.filter((c) => eyes.includes(c) || nose.includes(c));
  assert.deepEqual(predictor.columns, columns);
  const merged = await predictor.predict(X);
  predictor.dispose();
  assert.equal(merged.length, 3 * 6);
  for (let r = 0; r < 3; r++) {
    assert.deepEqual(merged.subarray(r * 6, r * 6 + 4), eyePrediction.subarray(r * 4, r * 4 + 4));
    assert.deepEqual(merged.subarray(r * 6 + 4, r * 6 + 6), nosePrediction.subarray(r * 2, r * 2 + 2));
  }
});

test('loadPredictor names the path it cannot use', async () => {
  await assert.rejects(loadPredictor(join(dir, 'none.fpm')), (e: unknown) => {
    assert.ok(e instanceof ModelFileError);
    assert.match(e.message, /none\.fpm: does not exist/);
    return true;
  });
  await mkdir(join(dir, 'empty'));
  await assert.rejects(loadPredictor(join(dir, 'empty')), /neither a run folder/);
});
