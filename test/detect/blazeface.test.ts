import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

import { decodePhoto } from '../../src/data/photo.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { blazeFaceAnchors, decodeBlazeFace } from '../../src/detect/blazeface-anchors.js';
import { loadBlazeFace } from '../../src/detect/blazeface-node.js';
import { type FaceDetector, boxIou } from '../../src/detect/face-detector.js';
import { framePixels } from '../cli/helpers.js';

let detector: FaceDetector;
before(async () => {
  detector = await loadBlazeFace();
});
after(() => detector.dispose());

test('anchors: 512 on the stride-16 grid (2 a cell) then 384 on the stride-32 grid (6 a cell)', () => {
  const a = blazeFaceAnchors();
  assert.equal(a.length, 896 * 2);
  assert.deepEqual([a[0], a[1], a[2], a[3], a[4], a[5]], [8, 8, 8, 8, 24, 8]);
  // The last stride-16 anchor, then the first stride-32 one.
  assert.deepEqual([a[2 * 511], a[2 * 511 + 1]], [248, 248]);
  assert.deepEqual([a[2 * 512], a[2 * 512 + 1]], [16, 16]);
  assert.deepEqual([a[2 * 895], a[2 * 895 + 1]], [240, 240]);
});

test('decoding: the centre is the anchor plus the offset, the size is as regressed, landmarks relative to the anchor', () => {
  const anchors = Float32Array.from([100, 50, 8, 8]);
  const regressors = new Float32Array(32);
  regressors.set([4, -2, 40, 60, 1, 2], 0);
  const { boxes, landmarks } = decodeBlazeFace(regressors, anchors);
  // [y1, x1, y2, x2] around the centre (104, 48).
  assert.deepEqual(Array.from(boxes.subarray(0, 4)), [18, 84, 78, 124]);
  assert.deepEqual(Array.from(landmarks.subarray(0, 2)), [101, 52]);
  assert.deepEqual(Array.from(boxes.subarray(4, 8)), [8, 8, 8, 8]);
  assert.throws(() => decodeBlazeFace(new Float32Array(31), anchors), /expected 32 regressors/);
});

/** A generated face, 192 pixels a side, placed at (left, top) in a gray 640x480 photo. */
async function photoWithFace(left: number, top: number): Promise<Buffer> {
  const faces = generateFaces({ count: 1, seed: 11, schema: 'kaggle15' });
  const face = await sharp(framePixels(faces, 0), { raw: { width: 96, height: 96, channels: 1 } })
    .resize(192, 192)
    .png()
    .toBuffer();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
    .composite([{ input: face, left, top }])
    .png()
    .toBuffer();
}

test('BlazeFace from the installed package finds a generated face where it was placed, and nothing in an empty photo', async () => {
  assert.match(detector.name, /^blazeface \(@vladmandic\/human 3\.3\.6\)$/);
  const photo = await decodePhoto(await photoWithFace(300, 200));
  const faces = await detector.detect(photo.rgb);
  assert.equal(faces.length, 1, JSON.stringify(faces));
  const placed = { x: 300, y: 200, width: 192, height: 192 };
  const iou = boxIou(faces[0].box, placed);
  assert.ok(iou > 0.3, `IoU ${iou} of ${JSON.stringify(faces[0].box)}`);
  assert.ok(faces[0].score > 0.5 && faces[0].score <= 1);
  // Its coarse landmarks (eyes first) lie inside the face.
  const [ex, ey] = faces[0].landmarks!;
  assert.ok(ex > 300 && ex < 492 && ey > 200 && ey < 392, `${ex}, ${ey}`);

  const empty = await decodePhoto(
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  );
  assert.deepEqual(await detector.detect(empty.rgb), []);
  // --min-face and --max-faces filter what is found.
  assert.deepEqual(await detector.detect(photo.rgb, { minFace: 400 }), []);
  assert.equal((await detector.detect(photo.rgb, { maxFaces: 1, minScore: 0.01 })).length, 1);
  // Nothing but the model's weights outlives a call.
  const tensors = tf.memory().numTensors;
  await detector.detect(photo.rgb);
  assert.equal(tf.memory().numTensors, tensors);
});

test('EXIF orientation is honoured: a photo stored sideways is detected in its upright pixels', async () => {
  const upright = await photoWithFace(80, 40);
  // Stored rotated by 90 degrees counter-clockwise, tagged "rotate 90 CW to display" (orientation 6).
  const stored = await sharp(upright)
    .rotate(-90)
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const raw = await sharp(stored).metadata();
  assert.deepEqual([raw.width, raw.height, raw.orientation], [480, 640, 6]);
  const photo = await decodePhoto(stored);
  assert.deepEqual([photo.width, photo.height], [640, 480]);
  const faces = await detector.detect(photo.rgb);
  assert.equal(faces.length, 1);
  assert.ok(
    boxIou(faces[0].box, { x: 80, y: 40, width: 192, height: 192 }) > 0.3,
    JSON.stringify(faces[0].box),
  );
});
