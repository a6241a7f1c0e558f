import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { flipPairsFor } from '../../src/runs/train-run.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { SPECIALIST_GROUPS, groupColumns } from '../../src/train/specialist-groups.js';
import { PHOTO_CSV_COLUMNS } from '../../src/predict/photo-output.js';
import { parseCsv, runCli, tempDir, trainSmallModel, writeFramePng } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let general: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('specialists'));
  general = await trainSmallModel(join(root, 'general'), { faces: 100, epochs: 2 });
});
after(() => cleanup());

test('the six groups cover the 15 keypoints once, with the tutorial flip pairs', () => {
  const all = SPECIALIST_GROUPS.flatMap((g) => g.keypoints).sort();
  assert.deepEqual(all, [...kaggle15.keypoints].sort());
  const pairs = Object.fromEntries(
    SPECIALIST_GROUPS.map((g) => [g.name, flipPairsFor('kaggle15', groupColumns(g))]),
  );
  assert.deepEqual(pairs['eye-centers'], [
    [0, 2],
    [1, 3],
  ]);
  assert.deepEqual(pairs['nose-tip'], []);
  assert.deepEqual(pairs['mouth'], [
    [0, 2],
    [1, 3],
  ]);
  assert.deepEqual(pairs['eye-corners'], [
    [0, 4],
    [1, 5],
    [2, 6],
    [3, 7],
  ]);
  assert.deepEqual(pairs['eyebrows'], [
    [0, 4],
    [1, 5],
    [2, 6],
    [3, 7],
  ]);
});

test('specialists start from the general model and merge into one predictor', async () => {
  const faces = generateFaces({ count: 80, seed: 12, schema: 'kaggle15' });
  for (let r = 0; r < 30; r++) faces.targets[r * 30 + 20] = Number.NaN; // nose tip x missing in 30 rows
  const csv = join(root, 'faces.csv');
  await writeKaggleCsv(csv, faces);
  const out = join(root, 'specialists');
  const result = await runCli(
    'specialists',
    '--general',
    general,
    '--data',
    csv,
    '--only',
    'eye-centers,nose-tip',
    '--epochs',
    '1',
    '--engine',
    'tfjs',
    '--out',
    out,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /specialist eye-centers: left_eye_center, right_eye_center on 80 rows/);
  assert.match(result.stdout, /specialist nose-tip: nose_tip on 50 rows/);
  assert.match(result.stdout, /Initialised hidden from /);
  assert.deepEqual((await readdir(out)).sort(), ['eye-centers', 'nose-tip', 'specialists.json']);
  const index = JSON.parse(await readFile(join(out, 'specialists.json'), 'utf8'));
  assert.deepEqual(
    index.specialists.map((s: { name: string; columns: string[] }) => [s.name, s.columns.length]),
    [
      ['eye-centers', 4],
      ['nose-tip', 2],
    ],
  );
  const config = JSON.parse(await readFile(join(out, 'nose-tip', 'config.json'), 'utf8'));
  assert.deepEqual(config.columns, ['nose_tip_x', 'nose_tip_y']);
  assert.equal(config.layers.layers.at(-1).units, 2);
  assert.equal(config.patience, 200);

  // The specialist's hidden layer started from the general one: after one small epoch they are still close.
  const g = await NeuralNet.load(general, { engine: 'tfjs' });
  const s = await NeuralNet.load(join(out, 'nose-tip', 'model-last.fpm'), { engine: 'tfjs' });
  const gw = (await g.getWeights()).find((w) => w.name === 'hidden.W')!.data;
  const sw = (await s.getWeights()).find((w) => w.name === 'hidden.W')!.data;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < gw.length; i++) {
    diff += (gw[i] - sw[i]) ** 2;
    norm += gw[i] ** 2;
  }
  assert.ok(diff / norm < 0.05, `relative change ${diff / norm}`);
  g.dispose();
  s.dispose();

  const image = join(root, 'face.png');
  await writeFramePng(faces, 0, image);
  const predicted = join(root, 'merged.csv');
  const merged = await runCli('predict', out, image, '--whole-image', '--out', predicted, '--engine', 'tfjs');
  assert.equal(merged.code, 0, merged.stderr);
  const { header } = parseCsv(await readFile(predicted, 'utf8'));
  assert.deepEqual(header, [
    ...PHOTO_CSV_COLUMNS,
    'left_eye_center_x',
    'left_eye_center_y',
    'right_eye_center_x',
    'right_eye_center_y',
    'nose_tip_x',
    'nose_tip_y',
  ]);

  const bad = await runCli(
    'specialists',
    '--general',
    general,
    '--data',
    csv,
    '--only',
    'ears',
    '--out',
    join(root, 'x'),
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown group ears/);
});

test('demo trains on generated faces and writes curves and a contact sheet; it replaces its own earlier run', async () => {
  const out = join(root, 'demo');
  const result = await runCli('demo', '--out', out, '--faces', '80', '--epochs', '2', '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^\s+2 \|/m);
  assert.match(result.stdout, /predictions: .*predictions\.png/);
  const sheet = await sharp(join(out, 'predictions.png')).metadata();
  assert.equal(sheet.format, 'png');
  assert.ok((sheet.width ?? 0) > 96 * 2);
  assert.equal((await sharp(join(out, 'loss.png')).metadata()).format, 'png');
  const again = await runCli('demo', '--out', out, '--faces', '80', '--epochs', '1', '--engine', 'tfjs');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(await readFile(join(out, 'history.json'), 'utf8')).length, 1);
  const notDemo = await runCli('demo', '--out', join(root, 'general'), '--faces', '80', '--epochs', '1');
  assert.equal(notDemo.code, 1);
  assert.match(notDemo.stderr, /not empty/);
});
