/**
 * Input a hostile (or careless) user gives: coordinates far outside the
 * image, duplicates, empty tables, paths out of the images folder, folders
 * where files belong, read-only outputs. Each is refused with one line that
 * names the file, line and column, and exit code 1; none is a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { importLandmarks } from '../../src/data/import/import-landmarks.js';
import { readLandmarkCsv } from '../../src/data/import/landmark-files.js';
import { readKaggleCsv, readKaggleTestCsv, writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { readLookupTable } from '../../src/data/submission.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { RunFolder } from '../../src/runs/run-folder.js';
import { runCli, tempDir, trainSmallModel } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let model: string;
const pixels = Array(9216).fill('128').join(' ');
const LANDMARK_HEADER = ',' + Array.from({ length: 136 }, (_, i) => i).join(',');

before(async () => {
  ({ dir: root, cleanup } = await tempDir('hostile'));
  model = await trainSmallModel(join(root, 'model'), { faces: 40, epochs: 1 });
  await mkdir(join(root, 'adir.csv'));
  await mkdir(join(root, 'img'));
  await writeFile(join(root, 'test.csv'), `ImageId,Image\n1,${pixels}\n2,${pixels}\n`);
  await writeFile(
    join(root, 'lookup.csv'),
    'RowId,ImageId,FeatureName,Location\n1,1,left_eye_center_x\n2,2,nose_tip_y\n',
  );
});
after(() => cleanup());

/** A gray PNG of the given size. */
async function writePng(path: string, width: number, height: number): Promise<void> {
  const raw = Buffer.alloc(width * height, 90);
  await writeFile(
    path,
    await sharp(raw, { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer(),
  );
}

/** 68 landmarks spread over a face box at (x0, y0) of side `side`, as a Udacity-layout row. */
function landmarkRow(name: string, x0: number, y0: number, side: number, change?: [number, string]): string {
  const values = Array.from({ length: 136 }, (_, i) =>
    String(i % 2 === 0 ? x0 + ((i / 2) % 17) * (side / 17) : y0 + Math.floor(i / 34) * (side / 4)),
  );
  if (change) values[change[0]] = change[1];
  return `${name},${values.join(',')}`;
}

/** A training CSV with one coordinate replaced by `value` in its one row. */
function trainingCsv(value: string): string {
  const coordinates = kaggle15.columns.map((_, i) => (i === 2 ? value : '40'));
  return `${kaggle15.columns.join(',')},Image\n${coordinates.join(',')},${pixels}\n`;
}

function assertClear(result: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /unexpected error|\n\s+at /);
  assert.match(result.stderr, pattern);
}

test('item 6: a coordinate far outside the frame or the image is refused naming file, line and column', async () => {
  const csv = join(root, 'coords.csv');
  for (const value of ['1e9', '1e400', '-5000', '130']) {
    await writeFile(csv, trainingCsv(value));
    await assert.rejects(
      readKaggleCsv(csv),
      /coords\.csv, line 2, column right_eye_center_x: coordinate \S+ is far outside the 96x96 frame/,
      value,
    );
  }
  // A few pixels outside the frame stays allowed.
  await writeFile(csv, trainingCsv('-3.5'));
  assert.equal((await readKaggleCsv(csv)).count, 1);

  await writePng(join(root, 'img', 'face.png'), 200, 160);
  await writePng(join(root, 'img', 'tiny.png'), 1, 1);
  const landmarks = join(root, 'landmarks.csv');
  const cases: [string, RegExp][] = [
    [
      landmarkRow('face.png', 40, 30, 100, [4, '1e7']),
      /line 2, column 4: x = 10000000 of point 3 is far outside/,
    ],
    [
      landmarkRow('face.png', 40, 30, 100, [7, '-5000']),
      /line 2, column 7: y = -5000 of point 4 is far outside/,
    ],
    [landmarkRow('face.png', 40, 30, 100, [0, '1e400']), /line 2, column 0: 1e400 is too large a number/],
    [
      landmarkRow('tiny.png', 40, 30, 100),
      /line 2, column 0: x = 40 of point 1 is far outside the 1x1 image tiny\.png/,
    ],
  ];
  for (const [row, pattern] of cases) {
    await writeFile(landmarks, `${LANDMARK_HEADER}\n${row}\n`);
    await assert.rejects(
      importLandmarks({ csvPath: landmarks, imagesDir: join(root, 'img'), schema: 'kaggle15' }),
      pattern,
    );
  }
  await writeFile(landmarks, `${LANDMARK_HEADER}\n${landmarkRow('face.png', 40, 30, 100, [0, '300'])}\n`);
  const imported = await runCli(
    'import',
    join(root, 'img'),
    '--landmarks',
    landmarks,
    '--out',
    join(root, 'i.csv'),
  );
  assertClear(
    imported,
    /landmarks\.csv, line 2, column 0: x = 300 of point 1 is far outside the 200x160 image/,
  );
  // Inside the image (or a little outside it) imports.
  await writeFile(landmarks, `${LANDMARK_HEADER}\n${landmarkRow('face.png', -5, 30, 100)}\n`);
  assert.equal(
    (await importLandmarks({ csvPath: landmarks, imagesDir: join(root, 'img'), schema: 'kaggle15' })).count,
    1,
  );
});

test('item 7: duplicates and empty tables are refused, naming the file and line', async () => {
  const dup = join(root, 'dup-test.csv');
  await writeFile(dup, `ImageId,Image\n1,${pixels}\n1,${pixels}\n`);
  await assert.rejects(
    readKaggleTestCsv(dup),
    /dup-test\.csv, line 3, column ImageId: ImageId 1 appears twice \(first on line 2\)/,
  );
  const lookup = join(root, 'dup-lookup.csv');
  await writeFile(lookup, 'RowId,ImageId,FeatureName,Location\n1,1,nose_tip_x\n1,1,nose_tip_y\n');
  await assert.rejects(
    readLookupTable(lookup),
    /dup-lookup\.csv, line 3, column RowId: RowId 1 appears twice/,
  );
  const landmarks = join(root, 'dup-landmarks.csv');
  await writeFile(
    landmarks,
    `${LANDMARK_HEADER}\n${landmarkRow('a.png', 1, 1, 50)}\n${landmarkRow('a.png', 1, 1, 50)}\n`,
  );
  await assert.rejects(
    readLandmarkCsv(landmarks),
    /line 3, column 1: image a\.png has landmarks twice \(first on line 2\)/,
  );

  const emptyTest = join(root, 'empty-test.csv');
  await writeFile(emptyTest, 'ImageId,Image\n');
  assertClear(
    await runCli('predict', model, emptyTest, '--out', join(root, 'p.csv')),
    /empty-test\.csv, line 2: no images after the header/,
  );
  assert.equal(existsSync(join(root, 'p.csv')), false);
  const emptyLookup = join(root, 'empty-lookup.csv');
  await writeFile(emptyLookup, 'RowId,ImageId,FeatureName,Location\n');
  assertClear(
    await runCli(
      'submit',
      model,
      join(root, 'test.csv'),
      '--lookup',
      emptyLookup,
      '--out',
      join(root, 's.csv'),
    ),
    /empty-lookup\.csv, line 2: no rows after the header/,
  );

  await writePng(join(root, 'photo.png'), 120, 100);
  assertClear(
    await runCli(
      'predict',
      model,
      join(root, 'photo.png'),
      '--box',
      '500,10,50',
      '--out',
      join(root, 'b.csv'),
    ),
    /--box 500,10,50 lies wholly outside .*photo\.png \(120x100 pixels\)/,
  );
  const out = join(root, 'momentum');
  assertClear(
    await runCli('train', 'net1', '--data', 'synthetic:20', '--momentum', '2', '--out', out),
    /momentum 2 \(--momentum\) must be below 1/,
  );
  assert.equal(existsSync(out), false);
});

test('item 8: an image name that leads out of the images folder is refused', async () => {
  await writePng(join(root, 'outside.png'), 200, 160);
  const landmarks = join(root, 'escape.csv');
  for (const name of ['../outside.png', join(root, 'outside.png')]) {
    await writeFile(landmarks, `${LANDMARK_HEADER}\n${landmarkRow(name, 40, 30, 100)}\n`);
    assertClear(
      await runCli('import', join(root, 'img'), '--landmarks', landmarks, '--out', join(root, 'e.csv')),
      /escape\.csv, line 2, column 1: image name ".*outside\.png" leads outside the images folder/,
    );
  }
});

test('item 9: a folder where a file is expected is one clear line, not a stack trace', async () => {
  const adir = join(root, 'adir.csv');
  const test = join(root, 'test.csv');
  const img = join(root, 'img');
  const cases: [string[], RegExp][] = [
    [
      ['predict', model, adir, '--out', join(root, 'x.csv')],
      /adir\.csv is a folder, expected a Kaggle test CSV/,
    ],
    [
      ['submit', model, test, '--lookup', adir, '--out', join(root, 'x.csv')],
      /adir\.csv is a folder, expected a lookup table/,
    ],
    [
      ['submit', model, adir, '--lookup', join(root, 'lookup.csv'), '--out', join(root, 'x.csv')],
      /adir\.csv is a folder, expected a Kaggle test CSV/,
    ],
    [
      ['import', img, '--landmarks', adir, '--out', join(root, 'x.csv')],
      /adir\.csv is a folder, expected a landmark CSV/,
    ],
    [['evaluate', model, img, '--landmarks', adir], /adir\.csv is a folder, expected a landmark CSV/],
  ];
  for (const [args, pattern] of cases) assertClear(await runCli(...args), pattern);
});

test('item 10: messages name the real cause', async () => {
  // A header-only training CSV is empty, not "without an Image column".
  const headerOnly = join(root, 'header-only.csv');
  await writeFile(headerOnly, `${kaggle15.columns.join(',')},Image\n`);
  const trained = await runCli('train', 'net1', '--data', headerOnly, '--out', join(root, 'h'));
  assertClear(trained, /header-only\.csv, line 2: no data rows after the header/);
  assert.doesNotMatch(trained.stderr, /Image column/);

  // An output folder given as the output file is named, never an internal temp file.
  const folder = join(root, 'out-folder');
  await mkdir(folder);
  const predicted = await runCli('predict', model, join(root, 'test.csv'), '--out', folder, '--force');
  assertClear(predicted, /out-folder: is a folder; expected a file name to write/);
  assert.doesNotMatch(predicted.stderr, /\.tmp/);

  // submit blames the test CSV for its own faults, not the lookup table.
  const emptyTest = join(root, 'empty-test.csv');
  await writeFile(emptyTest, 'ImageId,Image\n');
  const lookup = join(root, 'lookup.csv');
  for (const [file, pattern] of [
    [emptyTest, /empty-test\.csv, line 2: no images after the header/],
    [join(root, 'dup-test.csv'), /dup-test\.csv, line 3, column ImageId: ImageId 1 appears twice/],
  ] as const) {
    const submitted = await runCli('submit', model, file, '--lookup', lookup, '--out', join(root, 'sub.csv'));
    assertClear(submitted, pattern);
    assert.doesNotMatch(submitted.stderr, /lookup/);
  }

  // plot of a run whose losses are all NaN names the run.
  const nanRun = await RunFolder.create(join(root, 'nanrun'));
  await nanRun.writeConfig({});
  await nanRun.writeHistory(
    [1, 2].map((epoch) => ({
      epoch,
      trainLoss: Number.NaN,
      validLoss: Number.NaN,
      trainLossBest: false,
      validLossBest: false,
      trainValRatio: Number.NaN,
      dur: 0.1,
    })),
  );
  assertClear(
    await runCli('plot', nanRun.dir, '--out', join(root, 'curves.png')),
    /run nanrun has no finite positive loss to plot: all of its 2 epochs have NaN/,
  );
});

test('item 10: a read-only output says read-only, naming the output', async (t) => {
  const ro = join(root, 'ro');
  await mkdir(ro);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', ro], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    t.skip(`cannot mount a read-only tmpfs here (${(mounted.stderr || String(mounted.error)).trim()})`);
    return;
  }
  t.after(() => {
    spawnSync('umount', [ro]);
  });
  const faces = join(root, 'faces.csv');
  await writeKaggleCsv(faces, generateFaces({ count: 3, seed: 1, schema: 'kaggle15' }));
  assertClear(
    await runCli('train', 'net1', '--data', 'synthetic:20', '--out', join(ro, 'run')),
    /ro\/run: cannot write: the file system is read-only/,
  );
  const predicted = await runCli('predict', model, join(root, 'test.csv'), '--out', join(ro, 'p.csv'));
  assertClear(predicted, /ro\/p\.csv: cannot write: the file system is read-only/);
  assert.doesNotMatch(predicted.stderr, /\.tmp/);
  assertClear(
    await runCli(
      'import',
      join(root, 'img'),
      '--landmarks',
      join(root, 'landmarks.csv'),
      '--out',
      join(ro, 'sub', 'i.csv'),
    ),
    /ro\/sub: cannot write: the file system is read-only/,
  );
});
