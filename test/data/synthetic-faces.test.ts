import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unscaleTarget } from '../../src/data/scaling.js';
import { kaggle15, ibug68, mapIbug68ToKaggle15, swapFlipPairs } from '../../src/data/schemas.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';

test('generated faces are deterministic per seed, face n independent of the count', () => {
  const a = generateFaces({ count: 20, seed: 7 });
  const b = generateFaces({ count: 20, seed: 7 });
  const c = generateFaces({ count: 20, seed: 8 });
  const first = generateFaces({ count: 5, seed: 7 });
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.targets, b.targets);
  assert.notDeepEqual(a.images, c.images);
  assert.deepEqual(first.images, a.images.subarray(0, 5 * 9216));
  assert.equal(a.schema, kaggle15);
  assert.equal(a.ids.length, 20);
  assert.equal(new Set(a.ids).size, 20);
});

test('the 15 keypoints are the 68 mapped; all inside the frame; images in [0, 1] and varied', () => {
  const k15 = generateFaces({ count: 50, seed: 3, schema: 'kaggle15' });
  const k68 = generateFaces({ count: 50, seed: 3, schema: 'ibug68' });
  assert.equal(k68.schema, ibug68);
  assert.deepEqual(k15.images, k68.images);
  for (let n = 0; n < 50; n++) {
    const mapped = mapIbug68ToKaggle15(k68.targets.subarray(n * 136, (n + 1) * 136));
    for (let c = 0; c < 30; c++) assert.ok(Math.abs(mapped[c] - k15.targets[n * 30 + c]) < 1e-6);
    for (let c = 0; c < 136; c++) {
      const v = unscaleTarget(k68.targets[n * 136 + c]);
      assert.ok(v >= 1 && v <= 94, `face ${n} value ${c}: ${v}`);
    }
  }
  assert.ok(k15.images.every((v) => v >= 0 && v <= 1));
  // Faces differ in position and size: eye positions spread over many pixels.
  const eyeX = Array.from({ length: 50 }, (_, n) => unscaleTarget(k15.targets[n * 30]));
  assert.ok(Math.max(...eyeX) - Math.min(...eyeX) > 10);
  const iod = Array.from(
    { length: 50 },
    (_, n) => unscaleTarget(k15.targets[n * 30]) - unscaleTarget(k15.targets[n * 30 + 2]),
  );
  assert.ok(Math.max(...iod) - Math.min(...iod) > 8);
});

test('keypoints sit on the drawn features: the pupil is the darkest spot around each eye centre', () => {
  const faces = generateFaces({ count: 30, seed: 11 });
  let hits = 0;
  for (let n = 0; n < faces.count; n++) {
    for (const eye of [0, 1]) {
      const ex = unscaleTarget(faces.targets[n * 30 + 2 * eye]);
      const ey = unscaleTarget(faces.targets[n * 30 + 2 * eye + 1]);
      const at = (x: number, y: number) => faces.images[n * 9216 + Math.round(y) * 96 + Math.round(x)];
      // Mean brightness at the centre vs a ring 0.3 inter-ocular distances away.
      const iod = Math.abs(unscaleTarget(faces.targets[n * 30]) - unscaleTarget(faces.targets[n * 30 + 2]));
      const r = 0.3 * iod;
      let ring = 0;
      for (let k = 0; k < 8; k++)
        ring += at(ex + r * Math.cos((k * Math.PI) / 4), ey + r * Math.sin((k * Math.PI) / 4)) / 8;
      if (at(ex, ey) < ring) hits++;
    }
  }
  assert.ok(hits >= 0.9 * 60, `${hits} of 60 eye centres darker than their surroundings`);
});

test('flipping a face and its points gives a face of the same kind (flip symmetry)', () => {
  const faces = generateFaces({ count: 40, seed: 5 });
  for (let n = 0; n < faces.count; n++) {
    const row = Array.from(faces.targets.subarray(n * 30, (n + 1) * 30), unscaleTarget);
    // Unflipped: the subject's left eye (and mouth corner) on the image's right.
    assert.ok(row[0] > row[2], `face ${n}: left eye right of right eye`);
    assert.ok(row[22] > row[24], `face ${n}: left mouth corner right of right one`);
    // Flip the frame: x -> 95 - x, then swap left/right pairs.
    const flipped = row.map((v, c) => (c % 2 === 0 ? 95 - v : v));
    swapFlipPairs(kaggle15, flipped);
    assert.ok(flipped[0] > flipped[2], `flipped face ${n}: left eye still on the image's right`);
    assert.ok(
      flipped[4] < flipped[6] && flipped[4] > flipped[0] === false,
      `flipped face ${n}: left eye corners ordered`,
    );
    assert.ok(flipped[22] > flipped[24]);
    for (const [a, b] of kaggle15.columnFlipPairs) {
      if (a % 2 === 1) assert.ok(Math.abs(flipped[a] - row[b]) < 1e-9, 'y values trade places');
    }
  }
});
