import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countComplete,
  dropIncompleteRows,
  presentCounts,
  subsetDataset,
  type KeypointDataset,
} from '../../src/data/dataset.js';
import { identityOf } from '../../src/data/identity.js';
import { kaggle15 } from '../../src/data/schemas.js';

test('identityOf strips the folder and the trailing _NN.ext', () => {
  assert.equal(identityOf('Abdel_Aziz_Al-Hakim_01.jpg'), 'Abdel_Aziz_Al-Hakim');
  assert.equal(identityOf('training/T_Boone_Pickens_51.jpg'), 'T_Boone_Pickens');
  assert.equal(identityOf('Liu_Ye_51.png'), 'Liu_Ye');
  assert.equal(identityOf('portrait.jpg'), 'portrait');
});

test('dataset helpers: complete rows, present counts, subsets', () => {
  const targets = new Float32Array(3 * 30).fill(0.1);
  targets[30 + 4] = NaN;
  targets[30 + 5] = NaN;
  const data: KeypointDataset = {
    schema: kaggle15,
    count: 3,
    images: Float32Array.from({ length: 3 * 9216 }, (_, i) => Math.floor(i / 9216) / 2),
    targets,
    ids: ['a', 'b', 'c'],
    groups: ['g1', 'g2', 'g1'],
  };
  assert.equal(countComplete(data), 2);
  assert.equal(presentCounts(data)[4], 2);
  assert.equal(presentCounts(data)[0], 3);
  const complete = dropIncompleteRows(data);
  assert.deepEqual(complete.ids, ['a', 'c']);
  assert.deepEqual(complete.groups, ['g1', 'g1']);
  assert.equal(complete.images[9216], 1);
  const sub = subsetDataset(data, [2, 0]);
  assert.deepEqual(sub.ids, ['c', 'a']);
  assert.equal(sub.images[0], 1);
  assert.throws(() => subsetDataset(data, [3]), /row 3/);
});
