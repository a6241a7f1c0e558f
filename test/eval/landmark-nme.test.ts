import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  applyMeanOffset,
  eyeCornerDistance,
  fitMeanOffset,
  landmarkNme,
} from '../../src/eval/landmark-nme.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { unscaleTarget } from '../../src/data/scaling.js';

const faces = generateFaces({ count: 20, seed: 3, schema: 'ibug68' });
const labels = Float64Array.from(faces.targets, unscaleTarget);

test('NME: a prediction one eye-corner distance / 10 off on every point is NME 0.1 in every region', () => {
  const shifted = Float64Array.from(labels);
  for (let f = 0; f < faces.count; f++) {
    const iod = eyeCornerDistance(labels, f * 136);
    for (let p = 0; p < 68; p++) {
      shifted[f * 136 + 2 * p] += 0.06 * iod;
      shifted[f * 136 + 2 * p + 1] += 0.08 * iod; // |(0.06, 0.08)| = 0.1
    }
  }
  const m = landmarkNme(shifted, labels, faces.count);
  assert.ok(Math.abs(m.nme - 0.1) < 1e-9 && Math.abs(m.median - 0.1) < 1e-9);
  for (const v of Object.values(m.regions)) assert.ok(Math.abs(v - 0.1) < 1e-9);
  assert.equal(landmarkNme(labels, labels, faces.count).nme, 0);
  // Failures are faces above 0.10: push half the faces a little further.
  for (let i = 0; i < 10 * 136; i++) shifted[i] += 0.5;
  assert.equal(landmarkNme(shifted, labels, faces.count).failureRate, 0.5);
});

test('a mean offset fitted on some faces removes the same offset from others', () => {
  const offsetPoints = (points: Float64Array, dx: number, dy: number) => {
    const out = Float64Array.from(points);
    for (let f = 0; f < points.length / 136; f++) {
      const iod = eyeCornerDistance(points, f * 136);
      for (let p = 0; p < 68; p++) {
        out[f * 136 + 2 * p] += dx * iod;
        out[f * 136 + 2 * p + 1] += dy * iod;
      }
    }
    return out;
  };
  const peer = offsetPoints(labels, -0.03, -0.02);
  const fitted = fitMeanOffset(peer.subarray(0, 10 * 136), labels.subarray(0, 10 * 136), 10);
  assert.ok(Math.abs(fitted[0] - 0.03) < 1e-9 && Math.abs(fitted[1] - 0.02) < 1e-9, `${fitted}`);
  const calibrated = applyMeanOffset(peer.subarray(10 * 136), 10, fitted);
  assert.ok(landmarkNme(calibrated, labels.subarray(10 * 136), 10).nme < 1e-9);
});
