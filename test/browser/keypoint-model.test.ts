/** facepoints/browser's model in Node (tfjs runs in both): the detector plug-in path and the refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadKeypointModel, pointsToCsv } from '../../src/browser/index.js';
import type { CropBox, GrayImage } from '../../src/data/crop.js';
import { cropToFrame, pointsFromFrame } from '../../src/data/crop.js';
import { unscaleTarget } from '../../src/data/scaling.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { createTfjsEngine } from '../../src/engine/tfjs/tfjs-engine.js';
import { ModelFileError } from '../../src/errors.js';
import { presetSpec } from '../../src/nn/presets.js';
import { serializeModelFile } from '../../src/train/model-file.js';
import { randomModel } from '../export/fixtures.js';

const content = randomModel(presetSpec('net1', 30), 5, { schema: 'kaggle15', columns: kaggle15.columns });
const picture: GrayImage = {
  width: 160,
  height: 120,
  data: Uint8Array.from({ length: 160 * 120 }, (_, i) => (i * 37) % 256),
};

test('a plugged-in detector supplies the face boxes; explicit boxes win; each face as Node predicts it', async () => {
  const boxes: CropBox[] = [
    { x: 10, y: 5, size: 80 },
    { x: 70, y: 30, size: 64.5 },
  ];
  const seen: GrayImage[] = [];
  const model = await loadKeypointModel(serializeModelFile(content), {
    detector: {
      detect: async (image) => {
        seen.push(image);
        return boxes;
      },
    },
  });
  const faces = await model.predictFaces(picture);
  assert.equal(seen.length, 1);
  assert.deepEqual(
    faces.map((f) => f.box),
    boxes,
  );
  const network = await (await createTfjsEngine()).compile(content.spec);
  await network.setWeights(content.weights);
  for (const face of faces) {
    const outputs = await network.predict(cropToFrame(picture, face.box));
    const expected = pointsFromFrame(Array.from(outputs, unscaleTarget), face.box);
    // The model unscales in float32: the same points to float32 rounding.
    const worst = Math.max(...Array.from(expected, (v, i) => Math.abs(v - face.points[i])));
    assert.ok(worst < 1e-4, `largest difference ${worst}`);
    assert.equal(face.keypoints[10].name, 'nose_tip');
    assert.equal(face.keypoints[10].x, face.points[20]);
  }
  network.dispose();
  const given = await model.predictFaces(picture, [{ x: 0, y: 0, size: 50 }]);
  assert.equal(seen.length, 1, 'the detector is not asked when boxes are given');
  assert.deepEqual(given[0].box, { x: 0, y: 0, size: 50 });
  assert.equal(pointsToCsv(faces, 'p.png').trim().split('\n').length, 3);
  model.dispose();
});

test('loadKeypointModel refuses a model without a schema and a net that does not read 96x96 frames', async () => {
  const bare = randomModel(presetSpec('net1', 30), 5);
  await assert.rejects(
    loadKeypointModel(serializeModelFile(bare)),
    (e: Error) => e instanceof ModelFileError && /no schema/.test(e.message),
  );
  const small = randomModel(
    {
      layers: [
        { kind: 'input', shape: [100] },
        { kind: 'dense', units: 30 },
      ],
    },
    1,
    {
      schema: 'kaggle15',
    },
  );
  await assert.rejects(loadKeypointModel(serializeModelFile(small)), /reads 100 values, not a 96x96 frame/);
  await assert.rejects(loadKeypointModel(new Uint8Array([1, 2, 3])), ModelFileError);
});
