import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Rng } from '../../src/random/rng.js';
import { BLAZEFACE_CALIBRATION } from '../../src/detect/blazeface-calibration.js';
import {
  calibratedCropBox,
  fitCropCalibration,
  matchingJitter,
  parseCropCalibration,
} from '../../src/detect/calibration.js';

test('the least-squares fit recovers a known box -> crop map, with zero residual when exact', () => {
  const truth = {
    detector: 'x',
    offsetX: 0.02,
    offsetY: 0.07,
    scale: 1.4,
    residual: { x: 0, y: 0, size: 0 },
    faces: 0,
  };
  const rng = new Rng(3, 'calibration-test');
  const pairs = Array.from({ length: 50 }, () => {
    const box = { x: rng.uniform(0, 300), y: rng.uniform(0, 300), width: rng.uniform(20, 200), height: 0 };
    box.height = box.width * rng.uniform(0.9, 1.1);
    return { box, crop: calibratedCropBox(box, truth) };
  });
  const fit = fitCropCalibration(pairs, { detector: 'test' });
  assert.ok(Math.abs(fit.offsetX - 0.02) < 1e-9 && Math.abs(fit.offsetY - 0.07) < 1e-9);
  assert.ok(Math.abs(fit.scale - 1.4) < 1e-9);
  assert.ok(fit.residual.x < 1e-9 && fit.residual.y < 1e-9 && fit.residual.size < 1e-9);
  assert.equal(fit.faces, 50);
});

test('the residual is the spread left, as a fraction of the crop; the matching jitter has the same spread', () => {
  const rng = new Rng(4, 'calibration-noise');
  const base = {
    detector: 'x',
    offsetX: 0,
    offsetY: 0,
    scale: 1,
    residual: { x: 0, y: 0, size: 0 },
    faces: 0,
  };
  const pairs = Array.from({ length: 4000 }, () => {
    const box = { x: 100, y: 100, width: 100, height: 100 };
    const crop = calibratedCropBox(box, base);
    // Centre noise uniform in +-5 px (sd 2.89 % of 100 px), sizes exact.
    return { box, crop: { ...crop, x: crop.x + rng.uniform(-5, 5) } };
  });
  const fit = fitCropCalibration(pairs, { detector: 'test' });
  assert.ok(Math.abs(fit.residual.x - 5 / Math.sqrt(3) / 100) < 0.002, String(fit.residual.x));
  assert.ok(fit.residual.y < 1e-12);
  assert.ok(Math.abs(matchingJitter(fit).shift - 0.05) < 0.003, String(matchingJitter(fit).shift));
});

test("BlazeFace's stored calibration: crops a little below the box centre and 1.4 times its size", () => {
  const crop = calibratedCropBox({ x: 100, y: 100, width: 100, height: 100 }, BLAZEFACE_CALIBRATION);
  assert.ok(Math.abs(crop.size - 140.085) < 1e-3);
  assert.ok(crop.y + crop.size / 2 > 150 + 5, 'centre below the box centre');
  assert.deepEqual(matchingJitter(BLAZEFACE_CALIBRATION), { shift: 0.053, scale: 0.127 });
  assert.throws(
    () => parseCropCalibration({ offsetX: 0, offsetY: 0, scale: -1 }, 'c.json'),
    /c\.json: expected/,
  );
  assert.equal(
    parseCropCalibration({ ...BLAZEFACE_CALIBRATION }, 'c.json').scale,
    BLAZEFACE_CALIBRATION.scale,
  );
});
