import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { readKaggleCsv } from '../../src/data/kaggle-csv.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { SHARED_DATA } from '../shared-data.js';
import { framePixels, parseCsv, runCli, tempDir, writeFramePng } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let runA: string;
let runB: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('import'));
  runA = join(root, 'net1-a');
  runB = join(root, 'net1-b');
  const common = ['--data', 'synthetic:100', '--engine', 'tfjs', '--batch-size', '32'];
  assert.equal((await runCli('train', 'net1', ...common, '--epochs', '3', '--out', runA)).code, 0);
  assert.equal(
    (await runCli('train', 'net1', ...common, '--epochs', '2', '--seed', '9', '--out', runB)).code,
    0,
  );
});
after(() => cleanup());

test('import turns a folder of images with .pts landmarks into a Kaggle-format CSV', async () => {
  const folder = join(root, 'faces');
  await mkdir(folder);
  const data = generateFaces({ count: 3, seed: 4, schema: 'ibug68' });
  for (let r = 0; r < 3; r++) {
    await writeFramePng(data, r, join(folder, `anna_${String(r).padStart(2, '0')}.png`), 192);
    const points = Array.from({ length: 68 }, (_, k) => {
      const x = (data.targets[r * 136 + 2 * k] * 48 + 48) * 2 + 1;
      const y = (data.targets[r * 136 + 2 * k + 1] * 48 + 48) * 2 + 1;
      return `${x} ${y}`;
    });
    await writeFile(
      join(folder, `anna_${String(r).padStart(2, '0')}.pts`),
      `version: 1\nn_points: 68\n{\n${points.join('\n')}\n}\n`,
    );
  }
  const out = join(root, 'imported.csv');
  const result = await runCli('import', folder, '--out', out);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /wrote 3 faces \(3 with every keypoint\) of kaggle15/);
  const imported = await readKaggleCsv(out);
  assert.equal(imported.count, 3);
  assert.equal(imported.schema.name, 'kaggle15');
  assert.deepEqual(imported.groups, ['anna', 'anna', 'anna']);
  // Subject's left eye on the image's right, inside the frame.
  for (let r = 0; r < 3; r++) {
    const leftX = imported.targets[r * 30] * 48 + 48;
    const rightX = imported.targets[r * 30 + 2] * 48 + 48;
    assert.ok(leftX > rightX && leftX < 96 && rightX > 0, `row ${r}: ${leftX} ${rightX}`);
  }
  const again = await runCli('import', folder, '--out', out);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /imported\.csv exists: use --force/);
  const ibug = await runCli('import', folder, '--schema', 'ibug68', '--out', join(root, 'ibug.csv'));
  assert.equal(ibug.code, 0, ibug.stderr);
  assert.equal((await readKaggleCsv(join(root, 'ibug.csv'))).schema.columns.length, 136);
  const noLandmarks = await runCli('import', join(root, 'net1-a'), '--out', join(root, 'none.csv'));
  assert.equal(noLandmarks.code, 1);
  assert.match(noLandmarks.stderr, /no faces found/);
});

test('submit writes the rows of the lookup table in its order, clipped to 0..96', async () => {
  const faces = generateFaces({ count: 3, seed: 6, schema: 'kaggle15' });
  const testCsv = join(root, 'test.csv');
  const lines = ['ImageId,Image'];
  for (let r = 0; r < 3; r++) lines.push(`${r + 1},${Array.from(framePixels(faces, r)).join(' ')}`);
  await writeFile(testCsv, `${lines.join('\n')}\n`);
  const lookup = join(root, 'IdLookupTable.csv');
  const asked = [
    [3, 'nose_tip_x'],
    [1, 'left_eye_center_x'],
    [1, 'left_eye_center_y'],
    [2, 'mouth_center_bottom_lip_y'],
  ] as const;
  await writeFile(
    lookup,
    `RowId,ImageId,FeatureName,Location\n${asked.map(([id, f], i) => `${i + 1},${id},${f},`).join('\n')}\n`,
  );
  const out = join(root, 'submission.csv');
  const result = await runCli('submit', runA, testCsv, '--lookup', lookup, '--out', out, '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  const { header, rows } = parseCsv(await readFile(out, 'utf8'));
  assert.deepEqual(header, ['RowId', 'Location']);
  assert.deepEqual(
    rows.map((r) => r[0]),
    ['1', '2', '3', '4'],
  );
  // Each value is the model's prediction for that image and feature, as predict reports it.
  const predicted = join(root, 'test-points.csv');
  assert.equal((await runCli('predict', runA, testCsv, '--out', predicted, '--engine', 'tfjs')).code, 0);
  const points = parseCsv(await readFile(predicted, 'utf8'));
  asked.forEach(([id, feature], i) => {
    const expected = Math.min(96, Math.max(0, Number(points.rows[id - 1][points.header.indexOf(feature)])));
    assert.ok(Math.abs(Number(rows[i][1]) - expected) < 1e-3, `${feature} of image ${id}`);
  });
  const missing = await runCli(
    'submit',
    runA,
    testCsv,
    '--lookup',
    join(root, 'nope.csv'),
    '--out',
    join(root, 's2.csv'),
  );
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.csv does not exist/);
});

const SHARED = join(SHARED_DATA, 'kaggle', 'IdLookupTable.csv');

test('submit with the real IdLookupTable.csv gives 27124 rows', async (t) => {
  if (!existsSync(SHARED)) {
    t.skip(`no Kaggle lookup table at ${SHARED}`);
    return;
  }
  // Kaggle's test set has images 1..1783; blank frames are enough to exercise the lookup.
  const testCsv = join(root, 'test-1783.csv');
  const blank = new Array(96 * 96).fill('128').join(' ');
  await writeFile(
    testCsv,
    `ImageId,Image\n${Array.from({ length: 1783 }, (_, i) => `${i + 1},${blank}`).join('\n')}\n`,
  );
  const out = join(root, 'kaggle-submission.csv');
  const result = await runCli('submit', runA, testCsv, '--lookup', SHARED, '--out', out, '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  const { rows } = parseCsv(await readFile(out, 'utf8'));
  assert.equal(rows.length, 27124);
  assert.ok(rows.every((r, i) => Number(r[0]) === i + 1 && Number(r[1]) >= 0 && Number(r[1]) <= 96));
});

test('plot draws several runs in one figure, PNG and SVG', async () => {
  const out = join(root, 'figures', 'compare.png');
  const result = await runCli('plot', runA, runB, '--out', out, '--title', 'a vs b');
  assert.equal(result.code, 0, result.stderr);
  const svg = await readFile(join(root, 'figures', 'compare.svg'), 'utf8');
  for (const label of ['net1-a', 'net1-b', 'a vs b']) assert.match(svg, new RegExp(`>${label}<`));
  const lines = svg.match(/aria-roledescription="line mark"/g) ?? [];
  assert.equal(lines.length, 4);
  assert.equal((await sharp(out).metadata()).format, 'png');
  const bad = await runCli('plot', root);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not a facepoints run folder/);
});

test('a model file also plots: it carries its history', async () => {
  const out = join(root, 'one');
  const result = await runCli('plot', join(runA, 'model-last.fpm'), '--out', out);
  assert.equal(result.code, 0, result.stderr);
  assert.match(await readFile(`${out}.svg`, 'utf8'), /aria-label="epoch: 3; /);
});
