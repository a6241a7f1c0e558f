import assert from 'node:assert/strict';
import { test } from 'node:test';

import { keypointMetrics } from '../../src/eval/keypoint-metrics.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { scaleTarget } from '../../src/data/scaling.js';

/** One face: eye centres 40 px apart, every other point somewhere. */
function labels(): Float32Array {
  const px = new Float32Array(30);
  for (let c = 0; c < 30; c++) px[c] = 20 + c;
  px[0] = 68; // left eye x
  px[1] = 40;
  px[2] = 28; // right eye x
  px[3] = 40;
  return px.map(scaleTarget);
}

test('a 3-4-5 shift of every point: RMSE, per-keypoint errors and NME are exact', () => {
  const y = labels();
  const pred = y.map((v, c) => v + (c % 2 === 0 ? 3 : 4) / 48);
  const m = keypointMetrics({
    predictions: pred,
    labels: y,
    count: 1,
    columns: kaggle15.columns,
    schema: kaggle15,
  });
  // RMSE over coordinates: sqrt((9 + 16) / 2).
  assert.ok(Math.abs(m.rmsePx - Math.sqrt(12.5)) < 1e-4);
  assert.equal(m.perKeypoint.length, 15);
  for (const k of m.perKeypoint) {
    assert.ok(Math.abs(k.meanErrorPx - 5) < 1e-4);
    assert.ok(Math.abs(k.rmsePx - Math.sqrt(12.5)) < 1e-4);
  }
  assert.ok(Math.abs(m.nme! - 5 / 40) < 1e-6);
  assert.equal(m.nmeNormaliser, 'eye centres');
});

test('missing labels are left out; a subset of columns (a specialist) is measured on its own keypoints', () => {
  const y = labels();
  y[20] = Number.NaN; // nose tip x unknown
  const columns = ['nose_tip_x', 'nose_tip_y', 'left_eye_center_x', 'left_eye_center_y'];
  const pred = new Float32Array([0, 0, scaleTarget(68 + 6), scaleTarget(40 + 8)]);
  const m = keypointMetrics({ predictions: pred, labels: y, count: 1, columns, schema: kaggle15 });
  assert.deepEqual(
    m.perKeypoint.map((k) => [k.keypoint, k.count]),
    [
      ['nose_tip', 0],
      ['left_eye_center', 1],
    ],
  );
  assert.ok(Math.abs(m.perKeypoint[1].meanErrorPx - 10) < 1e-4);
  assert.ok(Math.abs(m.nme! - 10 / 40) < 1e-6);
  // Only the three present coordinates count: nose y (label 41, predicted 48), eye x (6), eye y (8).
  assert.ok(Math.abs(m.rmsePx - Math.sqrt((7 * 7 + 36 + 64) / 3)) < 1e-3);
});
