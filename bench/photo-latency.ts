/**
 * Benchmark: `predict` on a 640x480 photo with one face, after the models
 * are loaded: BlazeFace detection, then the keypoint net on the calibrated
 * crop, and the two together through `predictPhoto`. Medians of 30 runs
 * after 5 warm-up runs. The photo is a shared Udacity face filling 640x480
 * when ../shared/data is present, else a generated face on a gray photo.
 *
 *   node --import tsx bench/photo-latency.ts [MODEL.fpm] [--engine auto|native|tfjs]
 *
 * Without a model it times an untrained net5 with 68 points (the time does
 * not depend on the weights). Target: detection + keypoints < 150 ms.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import sharp from 'sharp';

import { decodePhoto } from '../src/data/photo.js';
import { ibug68 } from '../src/data/schemas.js';
import { generateFaces } from '../src/data/synthetic-faces.js';
import { BLAZEFACE_CALIBRATION } from '../src/detect/blazeface-calibration.js';
import { calibratedCropBox } from '../src/detect/calibration.js';
import { loadBlazeFace } from '../src/detect/blazeface-node.js';
import type { EngineChoice } from '../src/engine/engine.js';
import { predictPhoto } from '../src/predict/predict-photo.js';
import { type Predictor, loadPredictor } from '../src/predict/predictor.js';
import { presetNetOptions } from '../src/train/preset-options.js';
import { NeuralNet } from '../src/train/neural-net.js';

const args = process.argv.slice(2);
const engineAt = args.indexOf('--engine');
const engine = (engineAt >= 0 ? args[engineAt + 1] : 'auto') as EngineChoice;
const modelPath = args.find((a, i) => !a.startsWith('--') && (engineAt < 0 || i !== engineAt + 1));
const UDACITY = resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'udacity');

async function onePhoto(): Promise<{ png: Buffer; source: string }> {
  const real = join(UDACITY, 'test', 'Abdullah_Gul_11.jpg');
  if (existsSync(real)) {
    const png = await sharp(real).resize(640, 480, { fit: 'cover' }).png().toBuffer();
    return { png, source: `${real} resized to cover 640x480` };
  }
  const faces = generateFaces({ count: 1, seed: 11, schema: 'kaggle15' });
  const face = await sharp(Buffer.from(Array.from(faces.images, (v) => Math.round(v * 255))), {
    raw: { width: 96, height: 96, channels: 1 },
  })
    .resize(240, 240)
    .png()
    .toBuffer();
  const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a7a7a' } })
    .composite([{ input: face, left: 200, top: 120 }])
    .png()
    .toBuffer();
  return { png, source: 'a generated face on a gray 640x480 photo' };
}

async function model(): Promise<{ predictor: Predictor; name: string }> {
  if (modelPath) return { predictor: await loadPredictor(modelPath, { engine }), name: modelPath };
  const net = new NeuralNet({
    ...presetNetOptions('net5', { outputs: ibug68.columns.length, flipPairs: ibug68.columnFlipPairs }),
    engine,
    verbose: 0,
  });
  await net.initialize();
  return {
    predictor: {
      schema: ibug68,
      columns: ibug68.columns,
      flipTest: false,
      predict: (x) => net.predict(x),
      dispose: () => net.dispose(),
    },
    name: 'untrained net5, 68 points',
  };
}

async function median(
  runs: number,
  work: () => Promise<unknown>,
): Promise<{ median: number; min: number; max: number }> {
  for (let i = 0; i < 5; i++) await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)], min: times[0], max: times[runs - 1] };
}

const { png, source } = await onePhoto();
const detector = await loadBlazeFace();
const { predictor, name } = await model();
const photo = await decodePhoto(png);
const faces = await detector.detect(photo.rgb);
if (faces.length !== 1) throw new Error(`expected one face in the benchmark photo, found ${faces.length}`);
const crop = calibratedCropBox(faces[0].box, BLAZEFACE_CALIBRATION);
const fmt = (r: { median: number; min: number; max: number }) =>
  `${r.median.toFixed(1)} ms (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})`;
const decode = await median(30, () => decodePhoto(png));
const detection = await median(30, () => detector.detect(photo.rgb));
const keypoints = await median(30, () => predictPhoto(predictor, photo, { box: crop }));
const total = await median(30, () => predictPhoto(predictor, photo, { detector }));
console.log(`photo: ${source}; model: ${name}; detector: ${detector.name}`);
console.log(`decode PNG (not counted):   ${fmt(decode)}`);
console.log(`detection:                  ${fmt(detection)}`);
console.log(`keypoints (crop + net):     ${fmt(keypoints)}`);
console.log(`detection + keypoints:      ${fmt(total)}   (target < 150 ms)`);
predictor.dispose();
detector.dispose();
