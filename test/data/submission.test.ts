import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { scaleTarget } from '../../src/data/scaling.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { readLookupTable, writeSubmission } from '../../src/data/submission.js';
import { DataFormatError } from '../../src/errors.js';
import { SHARED_DATA } from '../shared-data.js';

const dir = await mkdtemp(join(tmpdir(), 'facepoints-submission-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Predictions whose pixel value encodes image and column, so the output can be checked cell by cell. */
function codedPredictions(imageIds: number[]): Float32Array {
  const p = new Float32Array(imageIds.length * 30);
  imageIds.forEach((id, row) => {
    for (let c = 0; c < 30; c++) p[row * 30 + c] = scaleTarget(((id * 7 + c) % 90) + 0.25);
  });
  return p;
}

test('writes RowId,Location in lookup order, clipped to 0..96, from a CRLF table', async () => {
  const table = join(dir, 'lookup.csv');
  await writeFile(
    table,
    [
      'RowId,ImageId,FeatureName,Location',
      '1,2,nose_tip_y,',
      '2,1,left_eye_center_x,',
      '3,1,mouth_center_bottom_lip_y,',
      '4,2,left_eye_center_x,',
      '',
    ].join('\r\n'),
  );
  const predictions = new Float32Array(60);
  predictions[21 + 30] = scaleTarget(61.5); // image 2 nose_tip_y
  predictions[0] = scaleTarget(-3); // image 1 left_eye_center_x: clipped to 0
  predictions[29] = scaleTarget(100); // image 1 bottom lip y: clipped to 96
  predictions[30] = scaleTarget(33.25); // image 2 left_eye_center_x
  const out = join(dir, 'submission.csv');
  assert.equal(
    await writeSubmission({ predictions, imageIds: [1, 2], lookupTablePath: table, outPath: out }),
    4,
  );
  assert.equal(await readFile(out, 'utf8'), 'RowId,Location\n1,61.5\n2,0\n3,96\n4,33.25\n');
});

test('refuses unknown features and images, naming the line', async () => {
  const table = join(dir, 'bad-lookup.csv');
  const out = join(dir, 'never.csv');
  const predictions = new Float32Array(30);
  await writeFile(table, 'RowId,ImageId,FeatureName,Location\n1,1,nose_tip_x,\n2,1,nose_tip_z,\n');
  await assert.rejects(
    writeSubmission({ predictions, imageIds: [1], lookupTablePath: table, outPath: out }),
    (e: unknown) =>
      e instanceof DataFormatError && e.line === 3 && /unknown feature "nose_tip_z"/.test(e.message),
  );
  await writeFile(
    table,
    'RowId,ImageId,FeatureName,Location\r\n1,1,nose_tip_x,\r\n2,1,nose_tip_y,\r\n3,9,nose_tip_y,\r\n',
  );
  await assert.rejects(
    writeSubmission({ predictions, imageIds: [1], lookupTablePath: table, outPath: out }),
    (e: unknown) =>
      e instanceof DataFormatError && e.line === 4 && /image 9 has no prediction/.test(e.message),
  );
  assert.equal(existsSync(out), false);
});

test('a submission from the real lookup table has 27124 rows in lookup order', async (t) => {
  const table = join(SHARED_DATA, 'kaggle', 'IdLookupTable.csv');
  if (!existsSync(table)) return t.skip(`no shared data at ${table}`);
  const lookup = await readLookupTable(table);
  const imageIds = [...new Set(lookup.map((r) => r.imageId))].sort((a, b) => a - b);
  assert.equal(imageIds.length, 1783);
  const out = join(dir, 'real-submission.csv');
  const rows = await writeSubmission({
    predictions: codedPredictions(imageIds),
    imageIds,
    lookupTablePath: table,
    outPath: out,
  });
  assert.equal(rows, 27124);
  const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
  assert.equal(lines[0], 'RowId,Location');
  assert.equal(lines.length, 27125);
  const columnOf = new Map(kaggle15.columns.map((name, i) => [name, i]));
  lookup.forEach((r, i) => {
    const [rowId, location] = lines[i + 1].split(',');
    assert.equal(Number(rowId), r.rowId);
    const expected = ((r.imageId * 7 + columnOf.get(r.featureName)!) % 90) + 0.25;
    assert.ok(Math.abs(Number(location) - expected) < 1e-4, `row ${r.rowId}`);
  });
  const sample = (await readFile(join(SHARED_DATA, 'kaggle', 'SampleSubmission.csv'), 'utf8'))
    .trimEnd()
    .split(/\r?\n/);
  assert.deepEqual(
    lines.map((l) => l.split(',')[0]),
    sample.map((l) => l.split(',')[0]),
  );
});
