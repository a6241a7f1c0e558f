import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { cropToFrame, decodeImage } from '../../src/data/crop.js';
import { writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { unscaleTarget } from '../../src/data/scaling.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { flipPairsFor } from '../../src/runs/train-run.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { SPECIALIST_GROUPS, groupColumns } from '../../src/train/specialist-groups.js';
import { ENGINES } from '../engines.js';
import { PHOTO_CSV_COLUMNS } from '../../src/predict/photo-output.js';
import { parseCsv, runCli, tempDir, trainSmallModel, writeFramePng } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let tfjsGeneral: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('specialists'));
  tfjsGeneral = await trainSmallModel(join(root, 'general'), { faces: 100, epochs: 2 });
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

for (const { name: engine, skip } of ENGINES) {
  test(
    `${engine}: specialists start from the general model, flip with their own pairs, and merge into one predictor`,
    { skip },
    async () => {
      const general =
        engine === 'tfjs'
          ? tfjsGeneral
          : await trainSmallModel(join(root, 'general-native'), { faces: 100, epochs: 2, engine });
      const faces = generateFaces({ count: 80, seed: 12, schema: 'kaggle15' });
      for (let r = 0; r < 30; r++) faces.targets[r * 30 + 20] = Number.NaN; // nose tip x missing in 30 rows
      const csv = join(root, 'faces.csv');
      await writeKaggleCsv(csv, faces);
      const out = join(root, `specialists-${engine}`);
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
        '--seed',
        '5',
        '--engine',
        engine,
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

      // The general net (net1) did not flip; the specialists do, each with its own pairs.
      assert.equal(JSON.parse(await readFile(join(general, '..', 'config.json'), 'utf8')).flip, false);
      assert.equal(config.flip, true);
      assert.match(result.stdout, /specialist eye-centers: .*flipping with its own pairs/);

      // The specialist's hidden layer started from the general one: after one small epoch it is still
      // close to it, while a fresh net of the specialist's seed (5; the general's is 42) is far from it.
      const g = await NeuralNet.load(general, { engine });
      const s = await NeuralNet.load(join(out, 'nose-tip', 'model-last.fpm'), { engine });
      const hiddenOf = async (net: NeuralNet) =>
        (await net.getWeights()).find((w) => w.name === 'hidden.W')!.data;
      const gw = await hiddenOf(g);
      const relativeChange = (w: Float32Array) => {
        let diff = 0;
        let norm = 0;
        for (let i = 0; i < gw.length; i++) {
          diff += (gw[i] - w[i]) ** 2;
          norm += gw[i] ** 2;
        }
        return diff / norm;
      };
      const fresh = new NeuralNet({ layers: s.spec, seed: 5, engine });
      assert.ok(relativeChange(await hiddenOf(s)) < 0.05, `specialist: ${relativeChange(await hiddenOf(s))}`);
      assert.ok(
        relativeChange(await hiddenOf(fresh)) > 0.5,
        `fresh net: ${relativeChange(await hiddenOf(fresh))}`,
      );

      // The merged prediction is each specialist's own prediction, column by column, in pixels.
      const image = join(root, `face-${engine}.png`);
      await writeFramePng(faces, 0, image);
      const predicted = join(root, `merged-${engine}.csv`);
      // The whole picture is the face; no flip averaging, so the merge can be compared with each net's predict.
      const merged = await runCli(
        'predict',
        out,
        image,
        '--whole-image',
        '--no-flip-test',
        '--out',
        predicted,
        '--engine',
        engine,
      );
      assert.equal(merged.code, 0, merged.stderr);
      const { header, rows } = parseCsv(await readFile(predicted, 'utf8'));
      const first = PHOTO_CSV_COLUMNS.length;
      assert.deepEqual(header, [
        ...PHOTO_CSV_COLUMNS,
        'left_eye_center_x',
        'left_eye_center_y',
        'right_eye_center_x',
        'right_eye_center_y',
        'nose_tip_x',
        'nose_tip_y',
      ]);
      const decoded = await decodeImage(image);
      const frame = cropToFrame(decoded, { x: 0, y: 0, size: 96 });
      const own = [
        ...(await (
          await NeuralNet.load(join(out, 'eye-centers', 'model-best.fpm'), { engine })
        ).predict(frame)),
        ...(await (await NeuralNet.load(join(out, 'nose-tip', 'model-best.fpm'), { engine })).predict(frame)),
      ].map(unscaleTarget);
      assert.equal(rows.length, 1);
      rows[0]
        .slice(first)
        .forEach((cell, i) =>
          assert.ok(Math.abs(Number(cell) - own[i]) <= 1e-4, `${header[i + first]}: ${cell} vs ${own[i]}`),
        );
      // and the specialists differ from each other's columns: the merge did not copy one net.
      assert.notEqual(Number(rows[0][first + 4]), Number(rows[0][first]));
      g.dispose();
      s.dispose();
      fresh.dispose();

      const noFlip = join(root, `no-flip-${engine}`);
      const unflipped = await runCli(
        'specialists',
        '--general',
        general,
        '--data',
        csv,
        '--only',
        'nose-tip',
        '--epochs',
        '1',
        '--no-flip',
        '--engine',
        engine,
        '--out',
        noFlip,
      );
      assert.equal(unflipped.code, 0, unflipped.stderr);
      assert.equal(JSON.parse(await readFile(join(noFlip, 'nose-tip', 'config.json'), 'utf8')).flip, false);

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
    },
  );
}

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
