import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { faceCropBox } from '../../src/data/crop.js';
import { readLandmarkCsv } from '../../src/data/import/landmark-files.js';
import { SHARED_DATA } from '../shared-data.js';
import { PHOTO_CSV_COLUMNS } from '../../src/predict/photo-output.js';
import { parseCsv, runCli, tempDir, trainSmallModel } from './helpers.js';

const UDACITY = join(SHARED_DATA, 'udacity');
const present = existsSync(join(UDACITY, 'test_frames_keypoints.csv'));

let root: string;
let cleanup: () => Promise<void>;
let model: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('real'));
  model = await trainSmallModel(join(root, 'run'), { faces: 100, epochs: 2 });
});
after(() => cleanup());

test('evaluate reads the real Udacity test folder (PNGs named .jpg, many sizes) through its landmark CSV', async (t) => {
  if (!present) {
    t.skip(`no Udacity data at ${UDACITY}`);
    return;
  }
  const result = await runCli(
    'evaluate',
    model,
    join(UDACITY, 'test'),
    '--landmarks',
    join(UDACITY, 'test_frames_keypoints.csv'),
    '--json',
    '--engine',
    'tfjs',
  );
  assert.equal(result.code, 0, result.stderr);
  const metrics = JSON.parse(result.stdout);
  assert.equal(metrics.faces, 685);
  assert.equal(metrics.nmeFaces, 685);
  assert.ok(metrics.rmsePx > 0 && metrics.rmsePx < 48, String(metrics.rmsePx));
});

test('predict on real photos with their face boxes gives points inside each box, in image pixels', async (t) => {
  if (!present) {
    t.skip(`no Udacity data at ${UDACITY}`);
    return;
  }
  const records = (await readLandmarkCsv(join(UDACITY, 'test_frames_keypoints.csv'))).slice(0, 3);
  for (const record of records) {
    const image = join(UDACITY, 'test', record.file);
    const box = faceCropBox(record.points);
    const out = join(root, `${record.file}.csv`);
    const boxText = [box.x, box.y, box.size].map((v) => v.toFixed(3)).join(',');
    const result = await runCli(
      'predict',
      model,
      image,
      '--box',
      boxText,
      '--out',
      out,
      '--draw',
      join(root, 'drawn'),
      '--force',
      '--engine',
      'tfjs',
    );
    assert.equal(result.code, 0, result.stderr);
    const values = parseCsv(await readFile(out, 'utf8'))
      .rows[0].slice(PHOTO_CSV_COLUMNS.length)
      .map(Number);
    for (let c = 0; c < values.length; c += 2) {
      assert.ok(
        values[c] > box.x - box.size * 0.25 && values[c] < box.x + box.size * 1.25,
        `x ${values[c]} of ${record.file}`,
      );
      assert.ok(
        values[c + 1] > box.y - box.size * 0.25 && values[c + 1] < box.y + box.size * 1.25,
        `y of ${record.file}`,
      );
    }
    const drawn = await sharp(join(root, 'drawn', record.file.replace(/\.jpg$/, '.png'))).metadata();
    const original = await sharp(image).metadata();
    assert.deepEqual([drawn.width, drawn.height], [original.width, original.height]);
  }
});
