/**
 * What augmentation costs an epoch: net2 (136 outputs, batch 128) trained on
 * generated 68-point faces on one engine, epochs with the plain shuffling
 * iterator and with AugmentBatchIterator (every transform on, sampling from
 * 128x128 source crops) alternating, so machine drift hits both alike.
 * Also times the augmentation alone per batch. Prints a table, then one
 * JSON line (the last line).
 *
 *   npm run bench:augment                          # native, 1024 faces, 4 epochs each
 *   npm run bench:augment -- --faces 2048 --epochs 6 --engine tfjs
 */
import { parseArgs } from 'node:util';

import { AugmentBatchIterator } from '../src/augment/augment-batch-iterator.js';
import { IMAGE_SIZE } from '../src/data/scaling.js';
import { ibug68 } from '../src/data/schemas.js';
import { generateFaces } from '../src/data/synthetic-faces.js';
import type { EngineChoice } from '../src/engine/engine.js';
import { presetSpec } from '../src/nn/presets.js';
import { BatchIterator } from '../src/train/batch-iterator.js';
import { NeuralNet } from '../src/train/neural-net.js';

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '1024' },
    epochs: { type: 'string', default: '4' },
    engine: { type: 'string', default: 'native' },
  },
});
const faces = Number(values.faces);
const epochs = Number(values.epochs);
const SOURCE = 128;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wider crops for the benchmark: each frame padded by its edge pixels to SOURCE x SOURCE. */
function padToSource(images: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * SOURCE * SOURCE);
  const off = (SOURCE - IMAGE_SIZE) / 2;
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < SOURCE; r++) {
      const sr = Math.min(IMAGE_SIZE - 1, Math.max(0, r - off));
      for (let c = 0; c < SOURCE; c++) {
        const sc = Math.min(IMAGE_SIZE - 1, Math.max(0, c - off));
        out[n * SOURCE * SOURCE + r * SOURCE + c] =
          images[n * IMAGE_SIZE * IMAGE_SIZE + sr * IMAGE_SIZE + sc];
      }
    }
  }
  return out;
}

const data = generateFaces({ count: faces, seed: 1, schema: 'ibug68' });
const source = { images: padToSource(data.images, faces), size: SOURCE };
const outputs = ibug68.columns.length;
const make = (augment: boolean) =>
  new NeuralNet({
    layers: presetSpec('net2', outputs),
    engine: values.engine as EngineChoice,
    trainSplit: null,
    maxEpochs: 10_000,
    handleInterrupt: false,
    batchIteratorTrain: augment
      ? new AugmentBatchIterator({ batchSize: 128, shuffle: true, flipPairs: ibug68.columnFlipPairs, source })
      : new BatchIterator({ batchSize: 128, shuffle: true }),
  });

const plain = make(false);
const augmented = make(true);
// One warm-up epoch each (engine set-up, first allocations), not counted.
await plain.fit(data.images, data.targets, { epochs: 1 });
await augmented.fit(data.images, data.targets, { epochs: 1 });
for (let e = 0; e < epochs; e++) {
  await plain.fit(data.images, data.targets, { epochs: 1 });
  await augmented.fit(data.images, data.targets, { epochs: 1 });
}
const plainDur = plain.trainHistory.slice(1).map((r) => r.dur);
const augDur = augmented.trainHistory.slice(1).map((r) => r.dur);

// The augmentation alone: cutting and transforming every batch of an epoch.
const iterator = new AugmentBatchIterator({
  batchSize: 128,
  shuffle: true,
  flipPairs: ibug68.columnFlipPairs,
  source,
});
const context = { epoch: 1, inputShape: [1, IMAGE_SIZE, IMAGE_SIZE], outputSize: outputs, seed: 1 };
const batchTimes: number[] = [];
const cpuStart = process.cpuUsage();
let augmentedBatches = 0;
for (let e = 1; e <= 3; e++) {
  let t = performance.now();
  for (const batch of iterator.batches(data.images, data.targets, undefined, { ...context, epoch: e })) {
    const now = performance.now();
    if (batch.rows.length === 128) batchTimes.push(now - t);
    augmentedBatches += batch.rows.length / 128;
    t = performance.now();
  }
}
const cpu = process.cpuUsage(cpuStart);
const augmentCpuMsPerBatch = (cpu.user + cpu.system) / 1000 / augmentedBatches;
const plainIterator = new BatchIterator({ batchSize: 128, shuffle: true });
const plainBatchTimes: number[] = [];
let t = performance.now();
for (const batch of plainIterator.batches(data.images, data.targets, undefined, context)) {
  const now = performance.now();
  if (batch.rows.length === 128) plainBatchTimes.push(now - t);
  t = performance.now();
}

const result = {
  engine: plain.engineName,
  faces,
  epochs,
  plainEpochS: median(plainDur),
  augmentedEpochS: median(augDur),
  overheadPercent: (median(augDur) / median(plainDur) - 1) * 100,
  augmentMsPerBatch: median(batchTimes),
  augmentCpuMsPerBatch,
  plainBatchMs: median(plainBatchTimes),
  epochsS: { plain: plainDur, augmented: augDur },
};
console.log(`engine ${result.engine}, net2 (136 outputs), ${faces} faces, batch 128, ${epochs} epochs each`);
console.log(`epoch, plain iterator      ${result.plainEpochS.toFixed(2)} s (median)`);
console.log(`epoch, augmented           ${result.augmentedEpochS.toFixed(2)} s (median)`);
console.log(`overhead                   ${result.overheadPercent.toFixed(1)} %`);
console.log(
  `augmenting one batch       ${result.augmentMsPerBatch.toFixed(1)} ms (plain batch cut ${result.plainBatchMs.toFixed(1)} ms)`,
);
console.log(JSON.stringify(result));
plain.dispose();
augmented.dispose();
