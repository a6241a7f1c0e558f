/**
 * Soak benchmark: a long training run through the whole run machinery
 * (trainRun: the training table, run.json every epoch, models and curves
 * every few seconds) that prints the process's resident memory at the start,
 * the middle and the end. Memory that grows with the number of steps shows
 * up here long before a real 3000-epoch run runs out of it.
 *
 *   npm run bench:soak                          # net1, 10,000 steps, native engine when built
 *   npm run bench:soak -- --steps 2000 --engine tfjs
 *   npm run bench:soak -- --save-every 1        # save models and curves every second
 *
 * Each sample is taken after a full garbage collection (the script runs
 * with --expose-gc), so it shows the memory kept rather than the moment V8
 * last swept the engine's weight copies. Even so the C allocator keeps and
 * returns freed blocks of megabytes as it likes, so one sample swings by
 * +-10 %: each figure is the median of the samples (one every 1 % of the
 * steps) in a window, 5-15 % of the steps for "start" (allocator pools, JIT
 * and the engine's caches are warm by then), 45-55 % for "middle" and
 * 90-100 % for "end". The first step's figure is printed too. The run is flat when the end is within --tolerance (default 5 %) of
 * the start and of the middle; the script exits 1 when it is not. The last
 * line is the figures as JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { generateFaces } from '../src/data/synthetic-faces.js';
import type { EngineChoice } from '../src/engine/engine.js';
import { RunFolder } from '../src/runs/run-folder.js';
import { resolveTrainConfig } from '../src/runs/train-config.js';
import { trainRun } from '../src/runs/train-run.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    faces: { type: 'string', default: '500' },
    'batch-size': { type: 'string', default: '100' },
    engine: { type: 'string', default: 'auto' },
    'save-every': { type: 'string', default: '10' },
    tolerance: { type: 'string', default: '5' },
    preset: { type: 'string', default: 'net1' },
  },
});

const steps = Number(args.steps);
const faces = Number(args.faces);
const batchSize = Number(args['batch-size']);
const tolerance = Number(args.tolerance);
const validSize = 0.2;
const trainRows = faces - Math.round(validSize * faces);
const stepsPerEpoch = Math.ceil(trainRows / batchSize);
const epochs = Math.ceil(steps / stepsPerEpoch);

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

interface Sample {
  step: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

/** Collected first (npm run bench:soak passes --expose-gc), so a sample shows what is kept, not when V8 last swept. */
const gc = (globalThis as { gc?: () => void }).gc;

function sample(step: number): Sample {
  gc?.();
  const m = process.memoryUsage();
  return { step, rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
}

const dir = await mkdtemp(join(tmpdir(), 'facepoints-soak-'));
const samples: Sample[] = [];
let step = 0;
let first: Sample | undefined;

/** The sample of median RSS among those taken between `from` and `to` (fractions of the steps). */
function medianOf(from: number, to: number): Sample {
  const window = samples
    .filter((s) => s.step > from * steps && s.step <= to * steps)
    .sort((a, b) => a.rssMb - b.rssMb);
  return window[window.length >> 1];
}
const every = Math.max(1, Math.floor(steps / 100));
const sink = { write: () => undefined };
try {
  const folder = await RunFolder.create(join(dir, 'run'));
  const config = resolveTrainConfig({
    preset: args.preset,
    maxEpochs: epochs,
    batchSize,
    validSize,
    engine: args.engine as EngineChoice,
    data: { source: `synthetic:${faces}`, masked: false },
  });
  const dataset = generateFaces({ count: faces, seed: 1, schema: 'kaggle15' });
  const started = performance.now();
  const result = await trainRun({
    folder,
    config,
    dataset,
    log: sink,
    saveEvery: Number(args['save-every']),
    callbacks: [
      {
        onBatchFinished() {
          step++;
          if (step === 1) first = sample(step);
          if (step % every === 0) {
            samples.push(sample(step));
            const s = samples[samples.length - 1];
            if (step % (every * 10) === 0)
              process.stderr.write(`step ${s.step}: rss ${s.rssMb} MB, heap ${s.heapUsedMb} MB\n`);
          }
        },
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  samples.push(sample(step));
  const start = medianOf(0.05, 0.15);
  const middle = medianOf(0.45, 0.55);
  const end = medianOf(0.9, 1);
  const engine = result.net.engineName;
  result.net.dispose();
  const growth = (from: Sample, to: Sample) => Math.round(((to.rssMb - from.rssMb) / from.rssMb) * 1000) / 10;
  const fromStart = growth(start, end);
  const fromMiddle = growth(middle, end);
  const flat = Math.abs(fromStart) <= tolerance && Math.abs(fromMiddle) <= tolerance;
  console.log(
    `soak: ${args.preset} on ${engine}, ${step} steps (${epochs} epochs of ${stepsPerEpoch}, batch ${batchSize}) in ${seconds.toFixed(0)} s`,
  );
  console.log(`  first step   rss ${first!.rssMb} MB`);
  for (const [name, s, window] of [
    ['start', start, '5-15 %'],
    ['middle', middle, '45-55 %'],
    ['end', end, '90-100 %'],
  ] as const) {
    console.log(
      `  ${name.padEnd(6)} rss ${s.rssMb} MB (median of steps ${window}; at step ${s.step}: heap ${s.heapUsedMb} MB, external ${s.externalMb} MB)`,
    );
  }
  const rss = samples.map((s) => s.rssMb);
  console.log(`  every sample: rss ${Math.min(...rss)} to ${Math.max(...rss)} MB`);
  console.log(
    `  rss change: ${fromStart} % start -> end, ${fromMiddle} % middle -> end: ${flat ? 'flat' : 'NOT flat'} (tolerance ${tolerance} %)`,
  );
  console.log(
    JSON.stringify({
      preset: args.preset,
      engine,
      steps: step,
      seconds: Math.round(seconds),
      rssMb: { first: first!.rssMb, start: start.rssMb, middle: middle.rssMb, end: end.rssMb },
      changePercent: { startToEnd: fromStart, middleToEnd: fromMiddle },
      flat,
      samples,
    }),
  );
  process.exitCode = flat ? 0 : 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
