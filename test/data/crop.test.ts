import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import {
  cropToFrame,
  decodeImage,
  FACE_CROP_MARGIN,
  faceCropBox,
  jitterBox,
  pointsFromFrame,
  pointsToFrame,
  type GrayImage,
} from '../../src/data/crop.js';
import { DataFormatError } from '../../src/errors.js';
import { Rng } from '../../src/random/rng.js';

test('faceCropBox: a centred square, margin on each side of the larger extent, NaN ignored', () => {
  const points = [100, 50, 160, 50, 130, 150, NaN, NaN, 100, 90];
  const box = faceCropBox(points);
  // Extent: 60 wide, 100 tall -> side 100 * (1 + 2 * margin), centred on (130, 100).
  // The box's edges are half a pixel before its first pixel (x, y).
  assert.ok(Math.abs(box.size - 100 * (1 + 2 * FACE_CROP_MARGIN)) < 1e-9);
  assert.ok(Math.abs(box.x - 0.5 + box.size / 2 - 130) < 1e-9);
  assert.ok(Math.abs(box.y - 0.5 + box.size / 2 - 100) < 1e-9);
  // Every point lands inside the frame, at least the margin away from the edges of the larger extent.
  const frame = pointsToFrame(points, box);
  for (let i = 0; i < frame.length; i++) {
    if (Number.isNaN(points[i])) continue;
    assert.ok(frame[i] > -0.5 && frame[i] < 95.5, `value ${i}: ${frame[i]}`);
  }
  const marginPx = (96 * FACE_CROP_MARGIN) / (1 + 2 * FACE_CROP_MARGIN);
  assert.ok(Math.abs(frame[1] - (marginPx - 0.5)) < 1e-9, 'top point at the margin');
  // Translating and scaling the points moves and scales the box's edges alike (the rule is equivariant).
  const moved = faceCropBox(points.map((v, i) => (i % 2 === 0 ? 3 * v + 7 : 3 * v - 11)));
  assert.ok(Math.abs(moved.size - 3 * box.size) < 1e-9);
  assert.ok(Math.abs(moved.x - 0.5 - (3 * (box.x - 0.5) + 7)) < 1e-9);
  assert.ok(Math.abs(moved.y - 0.5 - (3 * (box.y - 0.5) - 11)) < 1e-9);
});

test('pointsToFrame and pointsFromFrame are inverse; the whole 96 image is the identity box', () => {
  const box = { x: 12.3, y: -40, size: 250 };
  const pts = [0, 0, 100.5, 33, 262.3, 210];
  const back = pointsFromFrame(pointsToFrame(pts, box), box);
  pts.forEach((v, i) => assert.ok(Math.abs(back[i] - v) < 1e-9));
  const same = pointsToFrame([3, 4, 95, 0], { x: 0, y: 0, size: 96 });
  assert.deepEqual(Array.from(same), [3, 4, 95, 0]);
});

function gradientImage(width: number, height: number): GrayImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = (x * 7 + y * 3) % 256;
  return { width, height, data };
}

test('cropToFrame: identity box copies the image; a bright dot lands where its point maps', () => {
  const image = gradientImage(96, 96);
  const frame = cropToFrame(image, { x: 0, y: 0, size: 96 });
  image.data.forEach((v, i) => assert.ok(Math.abs(frame[i] - v / 255) < 1e-6));
  // A 3x3 white dot at (200, 120) in a 300x240 black image, cropped with a box of size 192.
  const big: GrayImage = { width: 300, height: 240, data: new Uint8Array(300 * 240) };
  for (let y = 119; y <= 121; y++) for (let x = 199; x <= 201; x++) big.data[y * 300 + x] = 255;
  const box = { x: 151, y: 41, size: 192 };
  const crop = cropToFrame(big, box);
  let best = 0;
  crop.forEach((v, i) => (v > crop[best] ? (best = i) : 0));
  const [fx, fy] = pointsToFrame([200, 120], box);
  assert.ok(
    Math.abs((best % 96) - fx) <= 0.5 && Math.abs(Math.floor(best / 96) - fy) <= 0.5,
    `peak ${best % 96},${Math.floor(best / 96)} vs ${fx},${fy}`,
  );
  assert.ok(crop.every((v) => v >= 0 && v <= 1));
});

/** Brightness-weighted centre of a frame, in frame pixels (pixel centres at integers). */
function brightCentre(frame: Float32Array): [number, number] {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  frame.forEach((v, i) => {
    sum += v;
    sx += v * (i % 96);
    sy += v * Math.floor(i / 96);
  });
  return [sx / sum, sy / sum];
}

test('pixels and points agree: the identity box moves neither, a 2x zoom moves a dot and its point alike', () => {
  const image = gradientImage(96, 96);
  const identity = { x: 0, y: 0, size: 96 };
  const frame = cropToFrame(image, identity);
  image.data.forEach((v, i) => assert.equal(Math.round(frame[i] * 255), v, `pixel ${i}`));
  assert.deepEqual(Array.from(pointsToFrame([0, 0, 37.25, 80, 95, 95], identity)), [0, 0, 37.25, 80, 95, 95]);
  assert.deepEqual(
    Array.from(pointsFromFrame([0, 0, 37.25, 80, 95, 95], identity)),
    [0, 0, 37.25, 80, 95, 95],
  );

  // One white pixel at (30, 40) on black; the box starts at pixel (24, 24) and spans 48: a 2x zoom.
  const dot: GrayImage = { width: 96, height: 96, data: new Uint8Array(96 * 96) };
  dot.data[40 * 96 + 30] = 255;
  const zoom = { x: 24, y: 24, size: 48 };
  const [px, py] = pointsToFrame([30, 40], zoom);
  // Source pixel 30 covers frame [12, 14] (pixel 24 becomes frame pixels 0 and 1), centre 12.5.
  assert.deepEqual([px, py], [12.5, 32.5]);
  const [cx, cy] = brightCentre(cropToFrame(dot, zoom, { padding: 'zero' }));
  assert.ok(Math.abs(cx - px) <= 0.5 && Math.abs(cy - py) <= 0.5, `dot at ${cx},${cy}, point at ${px},${py}`);
  // Back on the image, the dot's frame centre is the source pixel.
  const [bx, by] = pointsFromFrame([cx, cy], zoom);
  assert.ok(Math.abs(bx - 30) <= 0.25 && Math.abs(by - 40) <= 0.25, `back at ${bx},${by}`);
});

test('cropToFrame pads with the edge or with zeros outside the image', () => {
  const image: GrayImage = { width: 10, height: 10, data: new Uint8Array(100).fill(200) };
  const box = { x: -20, y: -20, size: 50 };
  const edge = cropToFrame(image, box);
  const zero = cropToFrame(image, box, { padding: 'zero' });
  assert.ok(Math.abs(edge[0] - 200 / 255) < 1e-6);
  assert.equal(zero[0], 0);
  const [cx, cy] = pointsToFrame([4.5, 4.5], box).map(Math.round);
  assert.ok(Math.abs(zero[cy * 96 + cx] - 200 / 255) < 1e-6, 'inside the image both agree');
});

test('jitterBox is seeded and stays within its limits', () => {
  const box = { x: 10, y: 20, size: 100 };
  const a = jitterBox(box, new Rng(5, 'jitter', 3), { shift: 0.1, scale: 0.2 });
  const b = jitterBox(box, new Rng(5, 'jitter', 3), { shift: 0.1, scale: 0.2 });
  const c = jitterBox(box, new Rng(5, 'jitter', 4), { shift: 0.1, scale: 0.2 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (let i = 0; i < 200; i++) {
    const j = jitterBox(box, new Rng(1, i), { shift: 0.1, scale: 0.2 });
    assert.ok(j.size >= 80 && j.size <= 120);
    assert.ok(Math.abs(j.x + j.size / 2 - 60) <= 10 + 1e-9);
    assert.ok(Math.abs(j.y + j.size / 2 - 70) <= 10 + 1e-9);
  }
});

test('decodeImage reads PNG and JPEG by content: gray, RGB, RGBA', async () => {
  const width = 8;
  const height = 6;
  const make = (channels: 1 | 3 | 4, value: (x: number, y: number, c: number) => number) => {
    const raw = Buffer.alloc(width * height * channels);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = value(x, y, c);
    return sharp(raw, { raw: { width, height, channels } });
  };
  const gray = (x: number) => 20 + x * 25;
  const cases: [string, Buffer, number][] = [
    ['gray PNG', await make(1, gray).png().toBuffer(), 0],
    ['RGB PNG', await make(3, gray).png().toBuffer(), 0],
    [
      'RGBA PNG',
      await make(4, (x, _y, c) => (c === 3 ? 255 : gray(x)))
        .png()
        .toBuffer(),
      0,
    ],
    ['gray JPEG', await make(1, gray).jpeg({ quality: 100 }).toBuffer(), 4],
    ['RGB JPEG', await make(3, gray).jpeg({ quality: 100 }).toBuffer(), 4],
  ];
  for (const [name, bytes, tolerance] of cases) {
    const image = await decodeImage(bytes);
    assert.equal(image.width, width, name);
    assert.equal(image.height, height, name);
    for (let x = 0; x < width; x++)
      assert.ok(Math.abs(image.data[2 * width + x] - gray(x)) <= tolerance, `${name} x=${x}`);
  }
  // Transparent pixels are flattened onto black.
  const clear = await decodeImage(
    await make(4, (_x, _y, c) => (c === 3 ? 0 : 255))
      .png()
      .toBuffer(),
  );
  assert.equal(clear.data[0], 0);
  // Red, green and blue weigh as luminance (green brightest).
  const rgb = await decodeImage(
    await make(3, (x, _y, c) => (c === x % 3 ? 255 : 0))
      .png()
      .toBuffer(),
  );
  assert.ok(rgb.data[1] > rgb.data[0] && rgb.data[0] > rgb.data[2]);
  await assert.rejects(decodeImage(Buffer.from('not an image at all')), DataFormatError);
});
