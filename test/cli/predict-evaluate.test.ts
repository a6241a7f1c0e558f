import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { readKaggleCsv, writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { rmseInPixels, unscaleTarget } from '../../src/data/scaling.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { PHOTO_CSV_COLUMNS } from '../../src/predict/photo-output.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { framePixels, parseCsv, runCli, tempDir, trainSmallModel, writeFramePng } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let model: string;
const faces = generateFaces({ count: 6, seed: 11, schema: 'kaggle15' });

before(async () => {
  ({ dir: root, cleanup } = await tempDir('predict'));
  model = await trainSmallModel(join(root, 'run'), { faces: 150, epochs: 3 });
});
after(() => cleanup());

test('predict with a face box gives keypoints in the original image pixels, and --draw writes overlays', async () => {
  // The same face alone at 192x192, and placed at (50, 30) in a 300x250 scene.
  const alone = join(root, 'face192.png');
  await writeFramePng(faces, 1, alone, 192);
  // Edges repeated outwards, so a crop that reads a pixel past the box sees what edge padding would give.
  const scene = join(root, 'scene.png');
  await sharp(alone)
    .extend({ left: 50, top: 30, right: 58, bottom: 28, extendWith: 'copy' })
    .png()
    .toFile(scene);
  const draw = join(root, 'drawn');
  const out = join(root, 'boxed.csv');
  const result = await runCli(
    'predict',
    model,
    scene,
    '--box',
    '50,30,192',
    '--out',
    out,
    '--draw',
    draw,
    '--engine',
    'tfjs',
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /wrote 1 rows of 15 keypoints/);
  const whole = join(root, 'whole.csv');
  assert.equal(
    (await runCli('predict', model, alone, '--whole-image', '--out', whole, '--engine', 'tfjs')).code,
    0,
  );
  const { header, rows } = parseCsv(await readFile(out, 'utf8'));
  assert.deepEqual(header, [...PHOTO_CSV_COLUMNS, ...kaggle15.columns]);
  // file, face 0, no score (a given box), the box itself, then the points.
  assert.deepEqual(rows[0].slice(1, 7), ['0', '', '50', '30', '192', '192']);
  const boxed = rows[0].slice(PHOTO_CSV_COLUMNS.length).map(Number);
  const plain = parseCsv(await readFile(whole, 'utf8'))
    .rows[0].slice(PHOTO_CSV_COLUMNS.length)
    .map(Number);
  // The box holds exactly the pixels of the lone face, so the points are the lone face's, moved by the box corner.
  for (let c = 0; c < 30; c += 2) {
    assert.ok(Math.abs(boxed[c] - (plain[c] + 50)) < 0.01, `x ${c}: ${boxed[c]} vs ${plain[c]} + 50`);
    assert.ok(
      Math.abs(boxed[c + 1] - (plain[c + 1] + 30)) < 0.01,
      `y ${c}: ${boxed[c + 1]} vs ${plain[c + 1]} + 30`,
    );
  }
  // And they are in the 192-pixel image, not in the 96-pixel frame.
  assert.ok(plain.some((v) => v > 100));
  assert.deepEqual(await readdir(draw), ['scene.png']);
  const meta = await sharp(join(draw, 'scene.png')).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 300, 250]);

  const again = await runCli('predict', model, scene, '--out', out, '--engine', 'tfjs');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /boxed\.csv exists: use --force/);
});

test('the same face at twice the size gives twice the coordinates (pixel centres: x192 = 2 x96 + 0.5)', async () => {
  const small = join(root, 'face96.png');
  const large = join(root, 'face2x.png');
  await writeFramePng(faces, 0, small);
  await writeFramePng(faces, 0, large, 192);
  const out = join(root, 'sizes.csv');
  const result = await runCli(
    'predict',
    model,
    small,
    large,
    '--whole-image',
    '--out',
    out,
    '--engine',
    'tfjs',
  );
  assert.equal(result.code, 0, result.stderr);
  const [a, b] = parseCsv(await readFile(out, 'utf8')).rows.map((r) =>
    r.slice(PHOTO_CSV_COLUMNS.length).map(Number),
  );
  for (let c = 0; c < 30; c++) {
    assert.ok(
      Math.abs(b[c] - (2 * a[c] + 0.5)) < 0.05,
      `${kaggle15.columns[c]}: ${b[c]} vs 2 x ${a[c]} + 0.5`,
    );
  }
});

test('predict on a Kaggle test CSV writes one row per ImageId: the net points in frame pixels', async () => {
  const testCsv = join(root, 'test.csv');
  const lines = ['ImageId,Image'];
  for (let r = 0; r < 4; r++) lines.push(`${r + 1},${Array.from(framePixels(faces, r)).join(' ')}`);
  await writeFile(testCsv, `${lines.join('\n')}\n`);
  const out = join(root, 'test-points.csv');
  const result = await runCli('predict', model, testCsv, '--out', out, '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  const { header, rows } = parseCsv(await readFile(out, 'utf8'));
  assert.deepEqual(header, ['ImageId', ...kaggle15.columns]);
  assert.deepEqual(
    rows.map((r) => r[0]),
    ['1', '2', '3', '4'],
  );
  const net = await NeuralNet.load(model, { engine: 'tfjs' });
  const frames = new Float32Array(4 * 96 * 96);
  for (let r = 0; r < 4; r++)
    frames.set(
      Array.from(framePixels(faces, r), (v) => v / 255),
      r * 96 * 96,
    );
  const direct = await net.predict(frames);
  net.dispose();
  rows.forEach((row, r) => {
    for (let c = 0; c < 30; c++)
      assert.ok(Math.abs(Number(row[c + 1]) - (direct[r * 30 + c] * 48 + 48)) < 1e-3);
  });
});

test('evaluate reports RMSE in pixels that matches the net score, per-keypoint errors and NME', async () => {
  const data = generateFaces({ count: 40, seed: 21, schema: 'kaggle15' });
  const csv = join(root, 'labelled.csv');
  await writeKaggleCsv(csv, data);
  const result = await runCli('evaluate', model, csv, '--json', '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  const metrics = JSON.parse(result.stdout);
  const net = await NeuralNet.load(model, { engine: 'tfjs' });
  // The CSV rounds coordinates to 4 decimals and pixels to 8 bits, hence the tolerance.
  const expected = rmseInPixels(await net.score(data.images, data.targets));
  net.dispose();
  assert.equal(metrics.faces, 40);
  assert.ok(Math.abs(metrics.rmsePx - expected) < 0.05, `${metrics.rmsePx} vs ${expected}`);
  assert.equal(metrics.perKeypoint.length, 15);
  assert.equal(metrics.perKeypoint[0].keypoint, 'left_eye_center');
  // NME and the per-keypoint errors, computed here from the net's predictions on the CSV's own rows.
  const rows = await readKaggleCsv(csv);
  const again = await NeuralNet.load(model, { engine: 'tfjs' });
  const predicted = await again.predict(rows.images);
  again.dispose();
  let nmeSum = 0;
  let leftEye = 0;
  for (let r = 0; r < 40; r++) {
    const px = (c: number) => unscaleTarget(predicted[r * 30 + c]);
    const lx = (c: number) => unscaleTarget(rows.targets[r * 30 + c]);
    let distances = 0;
    for (let c = 0; c < 30; c += 2) distances += Math.hypot(px(c) - lx(c), px(c + 1) - lx(c + 1));
    leftEye += Math.hypot(px(0) - lx(0), px(1) - lx(1));
    nmeSum += distances / 15 / Math.hypot(lx(0) - lx(2), lx(1) - lx(3));
  }
  assert.ok(Math.abs(metrics.nme - nmeSum / 40) < 1e-6, `NME ${metrics.nme} vs ${nmeSum / 40}`);
  assert.ok(
    Math.abs(metrics.perKeypoint[0].meanErrorPx - leftEye / 40) < 1e-4,
    `left eye ${metrics.perKeypoint[0].meanErrorPx} vs ${leftEye / 40}`,
  );
  assert.equal(metrics.nmeFaces, 40);
  assert.equal(metrics.nmeNormaliser, 'eye centres');

  const text = await runCli('evaluate', model, csv, '--engine', 'tfjs');
  assert.match(text.stdout, /RMSE: \d+\.\d{3} px/);
  assert.match(text.stdout, /NME: \d+\.\d{2} % of the eye centres distance \(40 faces\)/);
  assert.match(text.stdout, /^nose_tip\s+\|/m);
});

test('evaluate and predict refuse a model of another schema, a missing model, a non-model file', async () => {
  const ibug = join(root, 'ibug.csv');
  await writeKaggleCsv(ibug, generateFaces({ count: 5, seed: 2, schema: 'ibug68' }));
  const other = await runCli('evaluate', model, ibug, '--engine', 'tfjs');
  assert.equal(other.code, 1);
  assert.match(other.stderr, /predicts kaggle15 keypoints, but .*ibug\.csv holds ibug68/);
  const missing = await runCli('evaluate', join(root, 'none.fpm'), ibug);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /none\.fpm: does not exist/);
  const notModel = await runCli('predict', ibug, join(root, 'face96.png'), '--out', join(root, 'z.csv'));
  assert.equal(notModel.code, 1);
  assert.match(notModel.stderr, /^facepoints: error: .*ibug\.csv: /);
});

test('evaluate on an image folder with .pts landmarks crops by the import rule', async () => {
  const folder = join(root, 'pts-faces');
  await mkdir(folder);
  const data = generateFaces({ count: 4, seed: 8, schema: 'ibug68' });
  for (let r = 0; r < 4; r++) {
    await writeFramePng(data, r, join(folder, `person${r}_01.png`), 192);
    const points: string[] = [];
    for (let k = 0; k < 68; k++) {
      // .pts are 1-based; the image is the frame at 2x.
      const x = (data.targets[r * 136 + 2 * k] * 48 + 48) * 2 + 1;
      const y = (data.targets[r * 136 + 2 * k + 1] * 48 + 48) * 2 + 1;
      points.push(`${x.toFixed(3)} ${y.toFixed(3)}`);
    }
    await writeFile(
      join(folder, `person${r}_01.pts`),
      `version: 1\nn_points: 68\n{\n${points.join('\n')}\n}\n`,
    );
  }
  const result = await runCli('evaluate', model, folder, '--json', '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  const metrics = JSON.parse(result.stdout);
  assert.equal(metrics.faces, 4);
  // The same faces imported to a CSV by `import` (the one crop rule) evaluate to the same numbers.
  const imported = join(root, 'pts-faces.csv');
  assert.equal((await runCli('import', folder, '--schema', 'kaggle15', '--out', imported)).code, 0);
  const viaCsv = JSON.parse((await runCli('evaluate', model, imported, '--json', '--engine', 'tfjs')).stdout);
  assert.equal(viaCsv.faces, 4);
  // The CSV holds 8-bit pixels and 4-decimal coordinates: the folder's numbers within that rounding.
  assert.ok(Math.abs(metrics.rmsePx - viaCsv.rmsePx) < 0.02, `${metrics.rmsePx} vs ${viaCsv.rmsePx}`);
  assert.ok(Math.abs(metrics.nme - viaCsv.nme) < 1e-3, `${metrics.nme} vs ${viaCsv.nme}`);
  assert.ok(metrics.rmsePx > 0.5, 'a net trained 2 epochs is not exact');
});
