import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { countComplete, presentCounts, type KeypointDataset } from '../../src/data/dataset.js';
import { readKaggleCsv, readKaggleTestCsv, writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { scaleTarget } from '../../src/data/scaling.js';
import { ibug68, kaggle15 } from '../../src/data/schemas.js';
import { DataFormatError } from '../../src/errors.js';
import { Rng } from '../../src/random/rng.js';
import { SHARED_DATA } from '../shared-data.js';

const dir = await mkdtemp(join(tmpdir(), 'facepoints-kaggle-csv-'));
after(() => rm(dir, { recursive: true, force: true }));

const HEADER = [...kaggle15.columns, 'Image'].join(',');

function pixelsText(rng: Rng, n = 9216): string {
  return Array.from({ length: n }, () => rng.int(256)).join(' ');
}

function rowText(rng: Rng, coords?: string[]): string {
  const c = coords ?? kaggle15.columns.map(() => (rng.next() * 96).toFixed(4));
  return [...c, pixelsText(rng)].join(',');
}

async function csvFile(name: string, lines: string[], eol = '\n'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join(eol) + eol);
  return path;
}

test('reads rows, scales pixels and targets, keeps missing targets as NaN (CRLF too)', async () => {
  const rng = new Rng(1);
  const coords = kaggle15.columns.map((_, i) => (i === 5 ? '' : String(10 + i)));
  const pixels = pixelsText(rng);
  const path = await csvFile('small.csv', [HEADER, [...coords, pixels].join(','), rowText(rng)], '\r\n');
  const data = await readKaggleCsv(path);
  assert.equal(data.count, 2);
  assert.equal(data.schema, kaggle15);
  assert.deepEqual(data.ids, ['1', '2']);
  assert.equal(data.images.length, 2 * 9216);
  assert.ok(Number.isNaN(data.targets[5]));
  assert.equal(data.targets[0], Math.fround(scaleTarget(10)));
  assert.equal(data.images[3], Math.fround(Number(pixels.split(' ')[3]) / 255));
  assert.equal(countComplete(data), 1);
  const complete = await readKaggleCsv(path, { dropIncomplete: true });
  assert.equal(complete.count, 1);
  assert.deepEqual(complete.ids, ['2']);
  assert.deepEqual(complete.images, data.images.subarray(9216));
});

const malformed: [string, (rng: Rng) => string, RegExp][] = [
  [
    'a short row',
    (rng) => [...kaggle15.columns.slice(0, 29).map(() => '40'), pixelsText(rng)].join(','),
    /line 3.*fields, expected 31/,
  ],
  ['pixel 256', (rng) => rowText(rng).replace(/ \d+ /, ' 256 '), /line 3, column Image: pixel 2 is 256/],
  [
    'text in a number column',
    (rng) => rowText(rng).replace(/^([^,]+),[^,]+,/, '$1,abc,'),
    /line 3, column left_eye_center_y: "abc" is not a number/,
  ],
  [
    '9215 pixels',
    (rng) => [...kaggle15.columns.map(() => '40'), pixelsText(rng, 9215)].join(','),
    /line 3, column Image: 9215 pixels, expected 9216/,
  ],
  [
    '9217 pixels',
    (rng) => [...kaggle15.columns.map(() => '40'), pixelsText(rng, 9217)].join(','),
    /line 3, column Image: more than 9216/,
  ],
  [
    'a negative pixel',
    (rng) => rowText(rng).replace(/ \d+ /, ' -3 '),
    /line 3, column Image: unexpected character "-"/,
  ],
  [
    'a fractional pixel',
    (rng) => rowText(rng).replace(/ \d+ /, ' 3.5 '),
    /line 3, column Image: unexpected character "\."/,
  ],
];

for (const [name, makeRow, message] of malformed) {
  test(`a file with ${name} fails naming the line`, async () => {
    const rng = new Rng(2);
    const path = await csvFile(`bad-${name.replace(/\W/g, '-')}.csv`, [
      HEADER,
      rowText(rng),
      makeRow(rng),
      rowText(rng),
    ]);
    await assert.rejects(readKaggleCsv(path), (error: unknown) => {
      assert.ok(error instanceof DataFormatError);
      assert.equal(error.line, 3);
      assert.match(error.message, /^bad-/);
      assert.match(error.message, message);
      return true;
    });
  });
}

test('a header out of Kaggle order names the column', async () => {
  const names = [...kaggle15.columns];
  [names[2], names[3]] = [names[3], names[2]];
  const path = await csvFile('bad-header.csv', [[...names, 'Image'].join(','), rowText(new Rng(3))]);
  await assert.rejects(
    readKaggleCsv(path),
    /line 1, column 3: header: expected "right_eye_center_x", found "right_eye_center_y"/,
  );
});

test('write then read gives the same dataset, for both schemas, with ids and groups', async () => {
  for (const schema of [kaggle15, ibug68]) {
    const rng = new Rng(4, schema.name);
    const count = 3;
    const dataset: KeypointDataset = {
      schema,
      count,
      images: Float32Array.from({ length: count * 9216 }, () => rng.int(256) / 255),
      targets: Float32Array.from({ length: count * schema.columns.length }, (_, i) =>
        i % 7 === 3 ? NaN : rng.uniform(-1.1, 1.1),
      ),
      ids: ['a_01.jpg', 'b,2.jpg', 'c_03.jpg'],
      groups: ['a', 'b', 'c'],
    };
    const path = join(dir, `round-${schema.name}.csv`);
    await writeKaggleCsv(path, dataset);
    const back = await readKaggleCsv(path);
    assert.equal(back.schema, schema);
    assert.deepEqual(back.ids.length, 3);
    assert.deepEqual(back.groups, dataset.groups);
    assert.deepEqual(back.images, dataset.images);
    for (let i = 0; i < dataset.targets.length; i++) {
      if (Number.isNaN(dataset.targets[i])) assert.ok(Number.isNaN(back.targets[i]));
      else assert.ok(Math.abs(back.targets[i] - dataset.targets[i]) < 2e-6, `target ${i}`);
    }
    // Plain Kaggle layout when asked: no Id/Group columns.
    await writeKaggleCsv(path, dataset, { includeIds: false });
    const plain = await readKaggleCsv(path);
    assert.deepEqual(plain.ids, ['1', '2', '3']);
    assert.equal(plain.groups, undefined);
  }
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('reads test.csv and names bad image ids', async () => {
  const rng = new Rng(5);
  const path = await csvFile('test.csv', ['ImageId,Image', `1,${pixelsText(rng)}`, `2,${pixelsText(rng)}`]);
  const test = await readKaggleTestCsv(path);
  assert.equal(test.count, 2);
  assert.deepEqual(test.imageIds, [1, 2]);
  assert.equal(test.images.length, 2 * 9216);
  const bad = await csvFile('bad-test.csv', [
    'ImageId,Image',
    `1,${pixelsText(rng)}`,
    `x,${pixelsText(rng)}`,
  ]);
  await assert.rejects(readKaggleTestCsv(bad), /line 3, column ImageId/);
});

test('a blank line between rows fails naming it; blank lines at the end are fine', async () => {
  const rng = new Rng(6);
  const gap = await csvFile('bad-gap.csv', [HEADER, rowText(rng), '', rowText(rng)]);
  await assert.rejects(readKaggleCsv(gap), (error: unknown) => {
    assert.ok(error instanceof DataFormatError);
    assert.equal(error.line, 3);
    assert.match(error.message, /^bad-gap\.csv, line 3: empty line inside the data/);
    return true;
  });
  const trailing = await csvFile('trailing.csv', [HEADER, rowText(rng), '', '']);
  assert.equal((await readKaggleCsv(trailing)).count, 1);
});

test('a row with too many or too few fields fails naming the line and the field', async () => {
  const rng = new Rng(7);
  const extra = await csvFile('bad-extra.csv', [HEADER, rowText(rng), `${rowText(rng)},5`]);
  await assert.rejects(
    readKaggleCsv(extra),
    /: bad-extra\.csv, line 3, column 32: row has 32 fields, expected 31/,
  );
  const short = await csvFile('bad-short.csv', [HEADER, rowText(rng).split(',').slice(1).join(',')]);
  await assert.rejects(
    readKaggleCsv(short),
    /: bad-short\.csv, line 2, column Image: row has 30 fields, expected 31/,
  );
});

test('an empty file fails saying a header was expected', async () => {
  const empty = join(dir, 'empty.csv');
  await writeFile(empty, '');
  await assert.rejects(readKaggleCsv(empty), /: empty\.csv, line 1: empty file, expected a header line/);
  await assert.rejects(
    readKaggleTestCsv(empty),
    /: empty\.csv, line 1: empty file, expected the header "ImageId,Image"/,
  );
});

test('test.csv: a wrong header and rows of the wrong field count fail naming the line', async () => {
  const rng = new Rng(8);
  const header = await csvFile('bad-test-header.csv', ['Id,Pixels', `1,${pixelsText(rng)}`]);
  await assert.rejects(
    readKaggleTestCsv(header),
    /: bad-test-header\.csv, line 1: header is "Id,Pixels", expected "ImageId,Image"/,
  );
  const extra = await csvFile('bad-test-fields.csv', [
    'ImageId,Image',
    `1,${pixelsText(rng)}`,
    `2,${pixelsText(rng)},9`,
  ]);
  await assert.rejects(
    readKaggleTestCsv(extra),
    /: bad-test-fields\.csv, line 3, column 3: row has 3 fields, expected 2 \(ImageId,Image\)/,
  );
  const missing = await csvFile('bad-test-short.csv', ['ImageId,Image', '1']);
  await assert.rejects(
    readKaggleTestCsv(missing),
    /: bad-test-short\.csv, line 2, column Image: row has 1 fields, expected 2/,
  );
});

test('the real labels-only training file: 7049 rows, 2140 complete, README counts', async (t) => {
  const path = join(SHARED_DATA, 'kaggle', 'training_labels_only.csv');
  if (!existsSync(path)) return t.skip(`no shared data at ${path}`);
  const data = await readKaggleCsv(path);
  assert.equal(data.count, 7049);
  assert.equal(data.images.length, 0);
  assert.equal(countComplete(data), 2140);
  const counts = presentCounts(data);
  const perKeypoint = kaggle15.keypoints.map((_, k) => {
    assert.equal(counts[2 * k], counts[2 * k + 1], 'x and y are present together');
    return counts[2 * k];
  });
  // Counted once from the file; they match the README: eye centres ~7036, nose tip
  // 7049, bottom lip 7016, the other 11 keypoints 2225-2275.
  assert.deepEqual(
    perKeypoint,
    [7039, 7036, 2271, 2267, 2268, 2268, 2270, 2225, 2270, 2236, 7049, 2269, 2270, 2275, 7016],
  );
  const others = perKeypoint.filter((_, k) => ![0, 1, 10, 14].includes(k));
  assert.equal(others.length, 11);
  assert.ok(others.every((n) => n >= 2225 && n <= 2275));
  const complete = await readKaggleCsv(path, { dropIncomplete: true });
  assert.equal(complete.count, 2140);
});
