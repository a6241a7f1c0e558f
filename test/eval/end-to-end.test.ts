import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ibug68 } from '../../src/data/schemas.js';
import { faceNme } from '../../src/eval/end-to-end.js';
import { landmarkBox, matchDetection } from '../../src/eval/face-matching.js';

test('landmarkBox is the tight box of the finite points; matchDetection takes the best overlap above IoU 0.2', () => {
  const box = landmarkBox([10, 20, 50, 80, NaN, NaN, 30, 40]);
  assert.deepEqual(box, { x: 10, y: 20, width: 40, height: 60 });
  const far = { x: 200, y: 200, width: 40, height: 60 };
  const half = { x: 30, y: 20, width: 40, height: 60 }; // IoU 1/3
  const same = { ...box };
  assert.equal(matchDetection([far, half, same], box), 2);
  assert.equal(matchDetection([far, half], box), 1);
  assert.equal(matchDetection([far], box), -1);
  // IoU 1/3 is not above 0.4.
  assert.equal(matchDetection([half], box, 0.4), -1);
});

test('faceNme: mean point distance over the outer-eye-corner distance of the truth', () => {
  const truth = new Float64Array(136);
  for (let k = 0; k < 68; k++) truth.set([k, 2 * k], 2 * k);
  // Outer eye corners 36 and 45: (36, 72) and (45, 90), 20.12 apart.
  const norm = Math.hypot(45 - 36, 90 - 72);
  const predicted = truth.map((v, i) => (i % 2 === 0 ? v + 3 : v + 4)); // every point 5 px off
  assert.ok(Math.abs(faceNme(predicted, truth, ibug68) - 5 / norm) < 1e-12);
  assert.equal(faceNme(truth, truth, ibug68), 0);
});
