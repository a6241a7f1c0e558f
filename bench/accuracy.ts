/**
 * The accuracy benchmark: trained facepoints models against face-api's
 * 68-point landmark net on the same faces in one run, printed side by side.
 *
 * Faces: the shared Udacity faces (training + test folders), split by
 * identity with a fixed seed (`bench/accuracy/udacity.ts`); every contender is
 * judged on the validation identities (~20 %), which `bench/accuracy-data.ts`
 * never writes into the training CSV. Every contender gets the same square crop
 * (the crop rule): ours as the 96x96 grey frame, face-api as the same square
 * in colour at its 112x112 input. face-api is shown as it comes and with its
 * mean offset removed (fitted on training faces in units of the eye-corner
 * distance, applied to the validation faces): the labels' convention differs
 * from face-api's training data's, and our nets learn the labels' own.
 *
 *   npm run bench:accuracy -- --model runs/augment [--model runs/plain ...]
 *   npm run bench:accuracy -- --model runs/a --calibration 800 --json results.json
 *   npm run bench:accuracy -- --model runs/a --no-face-api --training-side   # also on the faces it could train on
 *
 * Prints a table, then one JSON line (the last line).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { faceCropBox } from '../src/data/crop.js';
import { subsetDataset } from '../src/data/dataset.js';
import { unscaleTarget } from '../src/data/scaling.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import {
  applyMeanOffset,
  fitMeanOffset,
  IBUG68_REGIONS,
  type LandmarkNme,
  landmarkNme,
} from '../src/eval/landmark-nme.js';
import { loadPredictor } from '../src/predict/predictor.js';
import { Rng } from '../src/random/rng.js';
import { loadFaceApiPeer } from './accuracy/face-api-peer.js';
import { SPLIT_SEED, loadUdacitySplit, udacityLandmarkRecords } from './accuracy/udacity.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/udacity' },
    model: { type: 'string', multiple: true, default: [] },
    calibration: { type: 'string', default: '600' },
    /** Judge only the first N validation faces (a quick check; the figures are for all of them). */
    limit: { type: 'string' },
    'no-face-api': { type: 'boolean', default: false },
    /** Also judge each model (without flip averaging) on the training side: under- or overfitting. */
    'training-side': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const dataDir = values.data!;
const started = performance.now();
const log = (text: string) => process.stderr.write(`${text}\n`);

const faces = await loadUdacitySplit(dataDir);
const { train } = faces;
const valid = values.limit
  ? subsetDataset(
      faces.valid,
      Array.from({ length: Math.min(Number(values.limit), faces.valid.count) }, (_, i) => i),
    )
  : faces.valid;
log(
  `faces: ${train.count} training (${faces.identities.train} identities), ${valid.count} validation (${faces.identities.valid} identities), split by identity`,
);
const labelsOf = (targets: Float32Array) => Float64Array.from(targets, unscaleTarget);
const validLabels = labelsOf(valid.targets);

interface Row {
  name: string;
  metrics: LandmarkNme;
}
const rows: Row[] = [];

for (const path of values.model!) {
  for (const flipTest of [true, false]) {
    const predictor = await loadPredictor(path, { flipTest: flipTest ? undefined : false });
    if (predictor.schema.name !== 'ibug68')
      throw new Error(`${path} predicts ${predictor.schema.name}, not ibug68`);
    if (flipTest && !predictor.flipTest) {
      predictor.dispose();
      continue; // trained without mirrors: the plain row below is the model as it comes
    }
    const predicted = labelsOf(await predictor.predict(valid.images));
    rows.push({
      name: `${path}${flipTest ? ', flip-averaged (default)' : ''}`,
      metrics: landmarkNme(predicted, validLabels, valid.count),
    });
    if (values['training-side'] && !flipTest) {
      // The faces the model could train on, unaugmented: close to the validation figure means it underfits.
      rows.push({
        name: `${path}, on the ${train.count} training-side faces`,
        metrics: landmarkNme(
          labelsOf(await predictor.predict(train.images)),
          labelsOf(train.targets),
          train.count,
        ),
      });
    }
    predictor.dispose();
  }
}

let peerRuntime: string | undefined;
let offset: [number, number] | undefined;
let calibrationFaces = 0;
if (!values['no-face-api']) {
  const peer = await loadFaceApiPeer();
  peerRuntime = peer.runtime;
  // Each face's source image and its crop box, from the landmark files (the crop rule on the labels).
  const records = new Map((await udacityLandmarkRecords(dataDir)).map((r) => [r.file, Array.from(r.points)]));
  const inputs = (ids: string[]) =>
    ids.map((id) => ({ path: join(dataDir, id), box: faceCropBox(records.get(id)!) }));
  const progress = (what: string, total: number) => (done: number) => {
    if (done % 100 === 0 || done === total) log(`face-api: ${what} ${done}/${total}`);
  };
  const onValid = await peer.predict(inputs(valid.ids), progress('validation faces', valid.count));
  rows.push({
    name: 'face-api 1.7.15, as it comes',
    metrics: landmarkNme(onValid, validLabels, valid.count),
  });
  calibrationFaces = Math.min(train.count, Number(values.calibration));
  const pick = new Rng(SPLIT_SEED, 'calibration').permutation(train.count).slice(0, calibrationFaces);
  const calIds = Array.from(pick, (i) => train.ids[i]);
  const calLabels = new Float64Array(calibrationFaces * 136);
  pick.forEach((row, k) =>
    calLabels.set(labelsOf(train.targets.subarray(row * 136, (row + 1) * 136)), k * 136),
  );
  const onTrain = await peer.predict(inputs(calIds), progress('calibration faces', calibrationFaces));
  offset = fitMeanOffset(onTrain, calLabels, calibrationFaces);
  rows.push({
    name: 'face-api 1.7.15, mean offset removed',
    metrics: landmarkNme(applyMeanOffset(onValid, valid.count, offset), validLabels, valid.count),
  });
}

const regions = Object.keys(IBUG68_REGIONS);
const pct = (v: number) => (v * 100).toFixed(2).padStart(6);
const width = Math.max(12, ...rows.map((r) => r.name.length));
console.log(
  `\n${valid.count} validation faces of ${faces.identities.valid} identities held out by identity; NME = mean point error / outer-eye-corner distance, in %`,
);
console.log(
  `${'contender'.padEnd(width)} |    NME | median | fail>10% | ${regions.map((r) => r.padStart(6)).join(' | ')}`,
);
console.log(`${'-'.repeat(width)}-|--------|--------|----------|-${regions.map(() => '------').join('-|-')}`);
for (const r of rows) {
  const m = r.metrics;
  console.log(
    `${r.name.padEnd(width)} | ${pct(m.nme)} | ${pct(m.median)} | ${pct(m.failureRate).padStart(8)} | ${regions.map((k) => pct(m.regions[k])).join(' | ')}`,
  );
}
if (offset) {
  console.log(
    `face-api's mean offset from the labels: (${(offset[0] * 100).toFixed(2)} %, ${(offset[1] * 100).toFixed(2)} %) of the eye-corner distance (x, y), fitted on ${calibrationFaces} training faces; ${peerRuntime}`,
  );
}
const result = {
  validFaces: valid.count,
  validIdentities: faces.identities.valid,
  trainFaces: train.count,
  calibrationFaces,
  faceApiOffset: offset ?? null,
  seconds: (performance.now() - started) / 1000,
  rows: rows.map((r) => ({
    name: r.name,
    nme: r.metrics.nme,
    median: r.metrics.median,
    failureRate: r.metrics.failureRate,
    regions: r.metrics.regions,
  })),
};
if (values.json) await writeFileAtomic(values.json, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result));
