/**
 * End to end on faces of identities the model never saw: the validation
 * identities of the accuracy benchmark's identity split of the shared Udacity
 * faces (training + test folders, `bench/accuracy/udacity.ts`, the faces
 * `bench/accuracy-data.ts` never writes into the training CSV), photos in,
 * keypoints out, measured for facepoints (BlazeFace + calibrated crop + the
 * model) and for face-api (`@vladmandic/face-api` 1.7.15, its tiny face
 * detector at input 416 + its 68-point landmark net, weights from its
 * tarball) on the same images in the same run.
 * Protocol (`evaluate --detect`): a face counts as detected when a box
 * overlaps the landmarks' box by IoU > 0.2; NME = mean point error over the
 * outer-eye-corner distance on detected faces; failure = NME > 0.10.
 *
 *   node --import tsx bench/end-to-end.ts --model RUN_DIR_OR_FPM [--data ../shared/data/udacity] [--limit N]
 *
 * The model must have been trained on faces of the training side only (a
 * `bench/accuracy-data.ts` CSV), or the figures flatter it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs';

import type { Photo } from '../src/data/photo.js';
import { ibug68 } from '../src/data/schemas.js';
import { loadBlazeFace } from '../src/detect/blazeface-node.js';
import { createTfjsEngine } from '../src/engine/tfjs/tfjs-engine.js';
import {
  type EndToEndMetrics,
  type PhotoKeypointer,
  evaluateEndToEnd,
  predictorKeypointer,
} from '../src/eval/end-to-end.js';
import { loadPredictor } from '../src/predict/predictor.js';
import { loadUdacitySplit, udacityLandmarkRecords } from './accuracy/udacity.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/udacity' },
    limit: { type: 'string' },
  },
});
if (!values.model) {
  console.error('usage: end-to-end.ts --model RUN_DIR_OR_FPM [--data ../shared/data/udacity] [--limit N]');
  process.exit(1);
}
const modelPath = values.model;
const dataDir = values.data!;
const limit = values.limit !== undefined ? Number(values.limit) : Infinity;

// The benchmark's validation faces: whole identities no training CSV of bench/accuracy-data.ts holds.
const split = await loadUdacitySplit(dataDir);
const validIds = new Set(split.valid.ids);
const records = (await udacityLandmarkRecords(dataDir)).filter((r) => validIds.has(r.file)).slice(0, limit);
const imagesDir = dataDir;
console.log(
  `${records.length} images of ${split.identities.valid} held-out identities (the accuracy benchmark's identity split of ${dataDir})`,
);

/** face-api in Node on our tfjs (its node-wasm build requires the same @tensorflow/tfjs). */
async function faceApiKeypointer(): Promise<{ keypointer: PhotoKeypointer; name: string }> {
  await createTfjsEngine(); // the wasm backend
  const require = createRequire(import.meta.url);
  const faceapi =
    require('@vladmandic/face-api/dist/face-api.node-wasm.js') as typeof import('@vladmandic/face-api');
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
  const version = (
    JSON.parse(await readFile(join(modelDir, '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
  return {
    name: `face-api ${version} (tiny detector 416 + 68-point net)`,
    keypointer: async (photo: Photo) => {
      const input = tf.tensor3d(photo.rgb.data, [photo.height, photo.width, 3], 'int32');
      try {
        const found = await faceapi.detectAllFaces(input as never, options).withFaceLandmarks();
        // face-api's coordinates are continuous (pixel i spans [i, i + 1]); ours put pixel centres at integers.
        return found.map((f) => ({
          box: {
            x: f.detection.box.x,
            y: f.detection.box.y,
            width: f.detection.box.width,
            height: f.detection.box.height,
          },
          points: f.landmarks.positions.flatMap((p) => [p.x - 0.5, p.y - 0.5]),
        }));
      } finally {
        input.dispose();
      }
    },
  };
}

function report(name: string, m: EndToEndMetrics, seconds: number): void {
  const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)} %`);
  console.log(
    `${name}: detected ${m.detected}/${m.images} (${pct(m.detectionRate)}), NME on detected ${m.nme === null ? '-' : (m.nme * 100).toFixed(2)} %, failure rate ${pct(m.failureRate)}; ${((seconds * 1000) / m.images).toFixed(0)} ms/image`,
  );
}

const results: Record<string, EndToEndMetrics> = {};
const model = await loadPredictor(modelPath);
const detector = await loadBlazeFace();
let start = performance.now();
const ours = await evaluateEndToEnd({
  records,
  imagesDir,
  schema: ibug68,
  keypointer: predictorKeypointer(model, { detector }),
});
report(`facepoints (${detector.name} + ${modelPath})`, ours, (performance.now() - start) / 1000);
results.facepoints = ours;
const faceApi = await faceApiKeypointer();
start = performance.now();
const peer = await evaluateEndToEnd({ records, imagesDir, schema: ibug68, keypointer: faceApi.keypointer });
report(faceApi.name, peer, (performance.now() - start) / 1000);
results.faceApi = peer;
// On the faces both detected, the same faces for both.
const both = ours.perImage.flatMap((r, i) => (r.nme !== null && peer.perImage[i].nme !== null ? [i] : []));
const mean = (m: EndToEndMetrics) => both.reduce((a, i) => a + m.perImage[i].nme!, 0) / both.length;
console.log(
  `on the ${both.length} faces both detected: facepoints ${(mean(ours) * 100).toFixed(2)} %, face-api ${(mean(peer) * 100).toFixed(2)} %`,
);
model.dispose();
detector.dispose();
