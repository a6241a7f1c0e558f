import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { cropToFrame, faceCropBox, pointsToFrame } from '../../src/data/crop.js';
import { TrainSplit } from '../../src/train/train-split.js';
import { importLandmarks } from '../../src/data/import/import-landmarks.js';
import { parsePts, readLandmarkCsv } from '../../src/data/import/landmark-files.js';
import { readKaggleCsv, writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { unscaleTarget } from '../../src/data/scaling.js';
import { ibug68 } from '../../src/data/schemas.js';
import { DataFormatError } from '../../src/errors.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { SHARED_DATA } from '../shared-data.js';

const dir = await mkdtemp(join(tmpdir(), 'facepoints-import-'));
after(() => rm(dir, { recursive: true, force: true }));

/** 68 points of a synthetic face, placed in a larger image, as test input with known truth. */
async function writeFaceImage(name: string, format: 'png' | 'jpeg', channels: 1 | 3 | 4, seed: number) {
  const face = generateFaces({ count: 1, seed, schema: 'ibug68' });
  const [W, H, ox, oy, zoom] = [200, 160, 40, 20, 1.5];
  const raw = Buffer.alloc(W * H * channels, 0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const fx = Math.floor((x - ox) / zoom);
      const fy = Math.floor((y - oy) / zoom);
      const v = fx >= 0 && fx < 96 && fy >= 0 && fy < 96 ? Math.round(face.images[fy * 96 + fx] * 255) : 128;
      for (let c = 0; c < channels; c++) raw[(y * W + x) * channels + c] = c === 3 ? 255 : v;
    }
  }
  const image = sharp(raw, { raw: { width: W, height: H, channels } });
  await writeFile(
    join(dir, name),
    await (format === 'png' ? image.png() : image.jpeg({ quality: 95 })).toBuffer(),
  );
  // Frame pixel centre u maps to image centre (u + 0.5) * zoom - 0.5 + offset.
  const points = Array.from(
    face.targets,
    (t, i) => (unscaleTarget(t) + 0.5) * zoom - 0.5 + (i % 2 === 0 ? ox : oy),
  );
  return points;
}

test('parsePts reads the 300-W layout and names bad lines', () => {
  const body = Array.from({ length: 68 }, (_, i) => `${i + 1}.5 ${200 - i}`).join('\n');
  const points = parsePts(`version: 1\nn_points:  68\n{\n${body}\n}\n`, 'a.pts');
  assert.equal(points.length, 136);
  assert.equal(points[0], 1.5);
  assert.equal(points[135], 133);
  assert.throws(
    () => parsePts(`version: 1\nn_points: 68\n{\n${body.replace('5.5 196', '5.5 x')}\n}\n`, 'b.pts'),
    /b\.pts, line 8, column y/,
  );
  assert.throws(() => parsePts(`version: 1\nn_points: 5\n{\n}\n`, 'c.pts'), DataFormatError);
});

test('imports .pts folders and Udacity-layout CSVs: PNG/JPEG, gray/RGB/RGBA, names ending in the wrong extension', async () => {
  const truth = new Map<string, number[]>();
  const files: [string, 'png' | 'jpeg', 1 | 3 | 4][] = [
    ['Ann_Lee_01.png', 'png', 1],
    ['Ann_Lee_02.jpg', 'png', 3], // a PNG named .jpg
    ['Bo_Kim_10.jpg', 'jpeg', 3],
    ['Cy_Dee_11.png', 'png', 4],
  ];
  for (const [i, [name, format, channels]] of files.entries()) {
    const points = await writeFaceImage(name, format, channels, 100 + i);
    truth.set(name, points);
    const pts = points.map((v) => v + 1); // .pts files are 1-based
    const body = Array.from({ length: 68 }, (_, k) => `${pts[2 * k]} ${pts[2 * k + 1]}`).join('\n');
    await writeFile(join(dir, name.replace(/\.\w+$/, '.pts')), `version: 1\nn_points: 68\n{\n${body}\n}\n`);
  }
  const csv = [
    ',' + Array.from({ length: 136 }, (_, i) => i).join(','),
    ...[...truth].map(([n, p]) => [n, ...p].join(',')),
  ];
  await writeFile(join(dir, 'keypoints.csv'), csv.join('\n') + '\n');

  const fromPts = await importLandmarks({ ptsDir: dir, imagesDir: dir, schema: 'ibug68' });
  const fromCsv = await importLandmarks({
    csvPath: join(dir, 'keypoints.csv'),
    imagesDir: dir,
    schema: 'ibug68',
  });
  assert.deepEqual(fromPts.ids, ['Ann_Lee_01.png', 'Ann_Lee_02.jpg', 'Bo_Kim_10.jpg', 'Cy_Dee_11.png']);
  assert.deepEqual(fromPts.groups, ['Ann_Lee', 'Ann_Lee', 'Bo_Kim', 'Cy_Dee']);
  assert.deepEqual(fromCsv.ids, [...truth.keys()]);
  for (let i = 0; i < fromPts.targets.length; i++)
    assert.ok(Math.abs(fromPts.targets[i] - fromCsv.targets[i]) < 1e-5);
  // Points follow the crop rule exactly, and the pixels are the crop of the decoded image.
  const points = truth.get('Bo_Kim_10.jpg')!;
  const box = faceCropBox(points);
  const expected = pointsToFrame(points, box);
  const row = fromCsv.ids.indexOf('Bo_Kim_10.jpg');
  for (let c = 0; c < 136; c++)
    assert.ok(Math.abs(unscaleTarget(fromCsv.targets[row * 136 + c]) - expected[c]) < 1e-3);
  const image = { width: 200, height: 160, data: new Uint8Array(200 * 160) };
  assert.equal(cropToFrame(image, box).length, 96 * 96);

  // The same faces mapped to Kaggle's 15, written and read back in the one format.
  const kaggle = await importLandmarks({
    csvPath: join(dir, 'keypoints.csv'),
    imagesDir: dir,
    schema: 'kaggle15',
  });
  assert.equal(kaggle.targets.length, 4 * 30);
  await writeKaggleCsv(join(dir, 'imported.csv'), kaggle);
  const back = await readKaggleCsv(join(dir, 'imported.csv'));
  assert.deepEqual(back.ids, kaggle.ids);
  assert.deepEqual(back.groups, kaggle.groups);

  // Jitter is seeded: same seed, same crops; another seed, other crops.
  const j1 = await importLandmarks({
    ptsDir: dir,
    imagesDir: dir,
    schema: 'kaggle15',
    jitter: true,
    seed: 3,
  });
  const j2 = await importLandmarks({
    ptsDir: dir,
    imagesDir: dir,
    schema: 'kaggle15',
    jitter: true,
    seed: 3,
  });
  const j3 = await importLandmarks({
    ptsDir: dir,
    imagesDir: dir,
    schema: 'kaggle15',
    jitter: true,
    seed: 4,
  });
  assert.deepEqual(j1.targets, j2.targets);
  assert.deepEqual(j1.images, j2.images);
  assert.notDeepEqual(j1.targets, j3.targets);
  assert.notDeepEqual(j1.targets, kaggle.targets);
});

test('a bad landmark CSV names its line', async () => {
  const path = join(dir, 'bad.csv');
  const header = ',' + Array.from({ length: 136 }, (_, i) => i).join(',');
  await writeFile(
    path,
    [header, 'a.jpg,' + Array(136).fill('1.0').join(','), 'b.jpg,' + Array(135).fill('1.0').join(',')].join(
      '\n',
    ),
  );
  await assert.rejects(
    readLandmarkCsv(path),
    /bad\.csv, line 3, column 135: row has 136 fields, expected 137/,
  );
  await writeFile(path, [header, 'a.jpg,' + Array(135).fill('1.0').join(',') + ',oops'].join('\n'));
  await assert.rejects(readLandmarkCsv(path), /line 2, column 135: "oops" is not a number/);
});

test('the shared Udacity data: 3075 + 685 faces, eyes inside the frame on the expected sides, identities apart', async (t) => {
  const udacity = join(SHARED_DATA, 'udacity');
  if (!existsSync(udacity)) return t.skip(`no shared data at ${udacity}`);
  const started = Date.now();
  const train = await importLandmarks({
    csvPath: join(udacity, 'training_frames_keypoints.csv'),
    imagesDir: join(udacity, 'training'),
    schema: 'kaggle15',
  });
  const testSet = await importLandmarks({
    csvPath: join(udacity, 'test_frames_keypoints.csv'),
    imagesDir: join(udacity, 'test'),
    schema: 'kaggle15',
  });
  t.diagnostic(`imported ${train.count + testSet.count} images in ${Date.now() - started} ms`);
  assert.equal(train.count, 3075);
  assert.equal(testSet.count, 685);
  for (const data of [train, testSet]) {
    let noseBelowEyes = 0;
    assert.equal(data.images.length, data.count * 9216);
    for (let r = 0; r < data.count; r++) {
      const [lx, ly, rx, ry] = [0, 1, 2, 3].map((c) => unscaleTarget(data.targets[r * 30 + c]));
      for (const v of [lx, ly, rx, ry]) assert.ok(v > 0 && v < 95, `${data.ids[r]}: eye at ${v}`);
      // The subject's left eye is on the image's right.
      assert.ok(lx > rx, `${data.ids[r]}: left eye x ${lx} <= right eye x ${rx}`);
      if (unscaleTarget(data.targets[r * 30 + 21]) > Math.max(ly, ry)) noseBelowEyes++;
    }
    // A few strongly tilted heads aside, the nose tip is below both eyes.
    assert.ok(noseBelowEyes > 0.98 * data.count, `${noseBelowEyes} of ${data.count}`);
    // The crops are not blank: real image content varies across the frame.
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < 9216; i++) {
      sum += data.images[i];
      sq += data.images[i] ** 2;
    }
    assert.ok(sq / 9216 - (sum / 9216) ** 2 > 0.001);
  }
  const split = new TrainSplit({ evalSize: 0.2, seed: 1 }).split(train.count, { groups: train.groups });
  const trainIds = new Set(Array.from(split.train, (r) => train.groups![r]));
  assert.ok(Array.from(split.valid).every((r) => !trainIds.has(train.groups![r])));
  assert.ok(split.valid.length > 500 && split.valid.length < 800);
});

test('contextSize keeps a wider crop whose central 96x96 window is the frame, through the CSV and back', async () => {
  const sub = join(dir, 'context');
  await mkdir(sub, { recursive: true });
  const points = await writeFaceImage('context/wide_00.png', 'png', 1, 9);
  const header = ['', ...Array.from({ length: 136 }, (_, i) => String(i))].join(',');
  await writeFile(join(dir, 'context.csv'), `${header}\nwide_00.png,${points.join(',')}\n`);
  const data = await importLandmarks({
    csvPath: join(dir, 'context.csv'),
    imagesDir: sub,
    schema: 'ibug68',
    contextSize: 128,
  });
  assert.equal(data.context?.size, 128);
  const wide = data.context!.images;
  let worst = 0;
  for (let r = 0; r < 96; r++) {
    for (let c = 0; c < 96; c++) {
      worst = Math.max(worst, Math.abs(wide[(r + 16) * 128 + c + 16] - data.images[r * 96 + c]));
    }
  }
  assert.ok(worst < 1e-5, `central window differs from the frame by ${worst}`);
  await writeKaggleCsv(join(dir, 'context-out.csv'), data);
  const back = await readKaggleCsv(join(dir, 'context-out.csv'));
  assert.equal(back.context?.size, 128);
  for (let i = 0; i < wide.length; i += 97)
    assert.ok(Math.abs(back.context!.images[i] - wide[i]) <= 0.5 / 255 + 1e-6);
  await writeFile(
    join(dir, 'bad-context.csv'),
    `Id,${ibug68.columns.join(',')},Image,Context\nx,${'1,'.repeat(136)}${'0 '.repeat(9216)},${'0 '.repeat(100)}\n`,
  );
  await assert.rejects(
    readKaggleCsv(join(dir, 'bad-context.csv')),
    /column Context: 100 pixels: expected a square image/,
  );
  await assert.rejects(
    importLandmarks({
      csvPath: join(dir, 'context.csv'),
      imagesDir: sub,
      schema: 'ibug68',
      contextSize: 127,
    }),
    /even margin/,
  );
});
