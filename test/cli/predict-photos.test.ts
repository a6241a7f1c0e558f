import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { generateFaces } from '../../src/data/synthetic-faces.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { PHOTO_CSV_COLUMNS } from '../../src/predict/photo-output.js';
import { framePixels, parseCsv, runCli, tempDir, trainSmallModel } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let model: string;
let photo: string;
/** Where the two faces were placed in the 640x480 photo: left, top, side. */
const placed = [
  { x: 40, y: 120, size: 200 },
  { x: 380, y: 60, size: 160 },
];

before(async () => {
  ({ dir: root, cleanup } = await tempDir('photos'));
  model = await trainSmallModel(join(root, 'run'), { faces: 300, epochs: 8 });
  // Two different generated faces (rows 0 and 3 of this seed) on a gray 640x480 photo.
  const faces = generateFaces({ count: 4, seed: 11, schema: 'kaggle15' });
  const layers = await Promise.all(
    placed.map(async (p, i) => ({
      input: await sharp(framePixels(faces, 3 * i), { raw: { width: 96, height: 96, channels: 1 } })
        .resize(p.size, p.size)
        .png()
        .toBuffer(),
      left: p.x,
      top: p.y,
    })),
  );
  photo = join(root, 'two-faces.png');
  await sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a7a7a' } })
    .composite(layers)
    .png()
    .toFile(photo);
});
after(() => cleanup());

function inside(x: number, y: number, p: { x: number; y: number; size: number }): boolean {
  return x > p.x && x < p.x + p.size && y > p.y && y < p.y + p.size;
}

test('a photo with two faces gives two sets of points, each on its own face, with score and box', async () => {
  const out = join(root, 'faces.csv');
  const draw = join(root, 'drawn');
  const result = await runCli('predict', model, photo, '--out', out, '--draw', draw, '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /wrote 2 rows of 15 keypoints .*\(2 faces in 1 images\)/);
  const { header, rows } = parseCsv(await readFile(out, 'utf8'));
  assert.deepEqual(header, [...PHOTO_CSV_COLUMNS, ...kaggle15.columns]);
  assert.equal(rows.length, 2);
  const seen = new Set<number>();
  for (const [i, row] of rows.entries()) {
    assert.equal(row[0], photo);
    assert.equal(row[1], String(i));
    const score = Number(row[2]);
    assert.ok(score > 0.5 && score <= 1, row[2]);
    const [bx, by, bw, bh] = row.slice(3, 7).map(Number);
    const which = placed.findIndex((p) => inside(bx + bw / 2, by + bh / 2, p));
    assert.ok(which >= 0, `box ${row.slice(3, 7)} is on neither face`);
    seen.add(which);
    const points = row.slice(PHOTO_CSV_COLUMNS.length).map(Number);
    assert.equal(points.length, 30);
    // Every keypoint of this row lies on the face its box found, none on the other.
    for (let c = 0; c < 30; c += 2) {
      assert.ok(inside(points[c], points[c + 1], placed[which]), `${kaggle15.columns[c]} of face ${i}`);
    }
    // The eyes sit above the mouth, and the subject's left eye on the image's right.
    assert.ok(points[1] < points[23] && points[0] > points[2]);
  }
  assert.deepEqual([...seen].sort(), [0, 1]);
  assert.deepEqual(await readdir(draw), ['two-faces.png']);
  const drawn = await sharp(join(draw, 'two-faces.png')).metadata();
  assert.deepEqual([drawn.width, drawn.height], [640, 480]);
});

test("JSON output names each face's points; --max-faces and --min-face limit the faces", async () => {
  const json = join(root, 'faces.json');
  assert.equal((await runCli('predict', model, photo, '--out', json, '--engine', 'tfjs')).code, 0);
  const doc = JSON.parse(await readFile(json, 'utf8'));
  assert.deepEqual(doc.columns, kaggle15.columns);
  assert.equal(doc.images.length, 1);
  const image = doc.images[0];
  assert.deepEqual([image.file, image.width, image.height, image.faces.length], [photo, 640, 480, 2]);
  const face = image.faces[0];
  assert.deepEqual(Object.keys(face), ['face', 'score', 'box', 'crop', 'points']);
  assert.equal(Object.keys(face.points).length, 15);
  assert.equal(face.points.nose_tip.length, 2);

  const one = join(root, 'one.csv');
  assert.equal(
    (await runCli('predict', model, photo, '--max-faces', '1', '--out', one, '--engine', 'tfjs')).code,
    0,
  );
  assert.equal(parseCsv(await readFile(one, 'utf8')).rows.length, 1);
  // The detector's box of the larger face is about 120 px across, of the smaller one about 80.
  const big = join(root, 'big.csv');
  assert.equal(
    (await runCli('predict', model, photo, '--min-face', '100', '--out', big, '--engine', 'tfjs')).code,
    0,
  );
  const rows = parseCsv(await readFile(big, 'utf8')).rows;
  assert.equal(rows.length, 1);
  assert.ok(Number(rows[0][3]) < 320, 'the face on the left');
});

test('a photo without a face: a line on stderr, no row, exit 0', async () => {
  const empty = join(root, 'wall.png');
  await sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a7a7a' } })
    .png()
    .toFile(empty);
  const out = join(root, 'none.csv');
  const result = await runCli('predict', model, empty, photo, '--out', out, '--engine', 'tfjs');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /wall\.png: no face found/);
  assert.doesNotMatch(result.stderr, /two-faces/);
  const rows = parseCsv(await readFile(out, 'utf8')).rows;
  assert.deepEqual(
    rows.map((r) => r[0]),
    [photo, photo],
  );
});
