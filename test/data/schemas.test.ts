import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import {
  getSchema,
  ibug68,
  IBUG68_TO_KAGGLE15,
  kaggle15,
  mapIbug68ToKaggle15,
  SCHEMA_NAMES,
  swapFlipPairs,
  type KeypointSchema,
} from '../../src/data/schemas.js';

function flipPermutation(size: number, pairs: [number, number][]): number[] {
  const perm = Array.from({ length: size }, (_, i) => i);
  for (const [a, b] of pairs) {
    perm[a] = b;
    perm[b] = a;
  }
  return perm;
}

function mirrorName(name: string): string {
  return name.replace(/left|right/g, (side) => (side === 'left' ? 'right' : 'left'));
}

for (const schema of [kaggle15, ibug68] as KeypointSchema[]) {
  test(`${schema.name}: flip pairs undo themselves and map each left name to its right name`, () => {
    const used = new Set<number>();
    for (const [a, b] of schema.keypointFlipPairs) {
      assert.notEqual(a, b);
      assert.ok(!used.has(a) && !used.has(b), `index used twice in pair (${a}, ${b})`);
      used.add(a).add(b);
      assert.equal(mirrorName(schema.keypoints[a]), schema.keypoints[b], `pair (${a}, ${b})`);
    }
    // Every sided name has its mirror in a pair; unpaired names have no side.
    schema.keypoints.forEach((name, i) => {
      assert.equal(used.has(i), /left|right/.test(name), `keypoint ${i} "${name}"`);
    });
    for (const [size, pairs] of [
      [schema.keypoints.length, schema.keypointFlipPairs],
      [schema.columns.length, schema.columnFlipPairs],
    ] as const) {
      const perm = flipPermutation(size, pairs);
      assert.deepEqual(
        perm.map((p) => perm[p]),
        perm.map((_, i) => i),
      );
    }
    const row = Array.from(schema.columns, (_, i) => i);
    swapFlipPairs(schema, row);
    row.forEach((c, i) => assert.equal(mirrorName(schema.columns[c]), schema.columns[i]));
    swapFlipPairs(schema, row);
    assert.deepEqual(
      row,
      schema.columns.map((_, i) => i),
    );
  });
}

test('kaggle15 has Kaggle column order and the flip pairs of DESIGN.md', () => {
  assert.equal(kaggle15.columns.length, 30);
  assert.equal(kaggle15.columns[0], 'left_eye_center_x');
  assert.equal(kaggle15.columns[21], 'nose_tip_y');
  assert.equal(kaggle15.columns[29], 'mouth_center_bottom_lip_y');
  assert.deepEqual(kaggle15.columnFlipPairs, [
    [0, 2],
    [1, 3],
    [4, 8],
    [5, 9],
    [6, 10],
    [7, 11],
    [12, 16],
    [13, 17],
    [14, 18],
    [15, 19],
    [22, 24],
    [23, 25],
  ]);
});

test('ibug68 pairs match DESIGN.md and the self-mapped points', () => {
  assert.equal(ibug68.keypoints.length, 68);
  assert.equal(new Set(ibug68.keypoints).size, 68);
  const paired = new Set(ibug68.keypointFlipPairs.flat());
  const selfMapped = ibug68.keypoints.map((_, i) => i).filter((i) => !paired.has(i));
  assert.deepEqual(selfMapped, [8, 27, 28, 29, 30, 33, 51, 57, 62, 66]);
});

test('the 68 -> 15 mapping covers Kaggle keypoints in order and averages eye points', () => {
  assert.deepEqual(
    IBUG68_TO_KAGGLE15.map((m) => m.keypoint),
    kaggle15.keypoints,
  );
  const points = new Float64Array(136);
  for (let i = 0; i < 68; i++) {
    points[2 * i] = i;
    points[2 * i + 1] = 100 + i;
  }
  const k = mapIbug68ToKaggle15(points);
  assert.equal(k[0], 44.5); // mean of 42..47
  assert.equal(k[3], 100 + 38.5); // right eye centre y: mean of 36..41
  assert.equal(k[20], 30); // nose tip
  assert.equal(k[29], 157); // bottom lip y
  // The mapping commutes with the flip: mapping mirrored points gives mirrored Kaggle points.
  const mirrored = new Float64Array(136);
  const perm = flipPermutation(68, ibug68.keypointFlipPairs);
  for (let i = 0; i < 68; i++) {
    mirrored[2 * i] = -points[2 * perm[i]];
    mirrored[2 * i + 1] = points[2 * perm[i] + 1];
  }
  const a = mapIbug68ToKaggle15(mirrored);
  const kperm = flipPermutation(15, kaggle15.keypointFlipPairs);
  for (let i = 0; i < 15; i++) {
    assert.equal(a[2 * i], -k[2 * kperm[i]]);
    assert.equal(a[2 * i + 1], k[2 * kperm[i] + 1]);
  }
});

test('getSchema finds schemas by name and refuses others', () => {
  for (const name of SCHEMA_NAMES) assert.equal(getSchema(name).name, name);
  assert.throws(() => getSchema('dlib5'), ConfigError);
});
