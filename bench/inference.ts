/**
 * Inference speed of one net (net2 by default, random weights: speed does not
 * depend on them) per face, on every runtime a facepoints model reaches:
 * - the page of `facepoints serve` in headless Chromium (tfjs wasm backend):
 *   one face = predictFaces on a 192x192 picture (crop included), and
 *   predictFrames on 128 frames;
 * - onnxruntime-node on the `facepoints export --format onnx` file (1 thread and its default);
 * - the native engine and tfjs-wasm in Node.
 * Each runtime runs `--rounds` times, interleaved; the table shows each one's
 * median over rounds. Prints a table, then one JSON line (the last line).
 *
 *   npm run bench:inference                      # net2, 3 rounds
 *   npm run bench:inference -- --net net3 --rounds 5
 *   npm run bench:inference -- --webgl             # adds the page on tfjs-webgl (software WebGL here)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import * as ort from 'onnxruntime-node';
import { chromium } from 'playwright-core';

import { buildWeb } from '../scripts/build-browser.mjs';
import { kaggle15 } from '../src/data/schemas.js';
import type { Engine } from '../src/engine/engine.js';
import { loadNativeEngine } from '../src/engine/native/native-engine.js';
import { createTfjsEngine } from '../src/engine/tfjs/tfjs-engine.js';
import { exportOnnx } from '../src/export/onnx.js';
import { initWeights } from '../src/nn/init.js';
import { presetSpec } from '../src/nn/presets.js';
import { resolveSpec } from '../src/nn/spec.js';
import { Rng } from '../src/random/rng.js';
import { startServer } from '../src/serve/server.js';
import { untrainedModelContent } from '../src/train/model-file.js';
import { writeModelFile } from '../src/train/model-file-node.js';

const BATCH = 128;
const SINGLE_CALLS = 40;
const BATCH_CALLS = 4;
const CHROMIUM = process.env.FACEPOINTS_CHROMIUM ?? '/usr/bin/chromium';

const { values: args } = parseArgs({
  options: {
    net: { type: 'string', default: 'net2' },
    rounds: { type: 'string', default: '3' },
    webgl: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);

interface Figures {
  single: number;
  batch: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** ms per face: `call(n)` predicts n faces; warm up once, then average. */
async function time(call: (n: number) => Promise<unknown>): Promise<Figures> {
  await call(1);
  await call(BATCH);
  let start = performance.now();
  for (let i = 0; i < SINGLE_CALLS; i++) await call(1);
  const single = (performance.now() - start) / SINGLE_CALLS;
  start = performance.now();
  for (let i = 0; i < BATCH_CALLS; i++) await call(BATCH);
  const batch = (performance.now() - start) / BATCH_CALLS / BATCH;
  return { single, batch };
}

const spec = presetSpec(args.net, kaggle15.columns.length);
const resolved = resolveSpec(spec);
const content = untrainedModelContent(spec, initWeights(resolved, 1), 1, {
  schema: 'kaggle15',
  columns: kaggle15.columns,
});
const rng = new Rng(2, 'bench-inference');
const frames = Float32Array.from({ length: BATCH * resolved.inputSize }, () => rng.uniform(0, 1));
const framesOf = (n: number) => frames.subarray(0, n * resolved.inputSize);

async function engineRunner(engine: Engine): Promise<() => Promise<Figures>> {
  const network = await engine.compile(spec);
  await network.setWeights(content.weights);
  return () => time((n) => network.predict(framesOf(n)));
}

async function onnxRunner(threads?: number): Promise<() => Promise<Figures>> {
  const session = await ort.InferenceSession.create(exportOnnx(content), {
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  });
  return () =>
    time((n) => session.run({ input: new ort.Tensor('float32', framesOf(n), [n, ...resolved.inputShape]) }));
}

const dir = await mkdtemp(join(tmpdir(), 'facepoints-bench-inference-'));
const runners: { name: string; run: () => Promise<Figures> }[] = [];
let closeAll = async () => {};
try {
  const modelPath = join(dir, 'model.fpm');
  await writeModelFile(modelPath, content);
  const server = await startServer({ model: modelPath, port: 0, webDir: await buildWeb(join(dir, 'web')) });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  closeAll = async () => {
    await browser.close();
    await server.close();
  };
  const pageRunner = async (query: string) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}${query}`);
    await page.evaluate(() => window.facepointsPage.ready);
    return () =>
      page.evaluate(
        async ({ batch, singleCalls, batchCalls, inputSize }) => {
          const model = window.facepointsPage.model!;
          const gray = {
            width: 192,
            height: 192,
            data: new Uint8Array(192 * 192).map((_, i) => (i * 7) % 256),
          };
          const many = new Float32Array(batch * inputSize).map((_, i) => ((i * 13) % 256) / 255);
          await model.predictFaces(gray);
          await model.predictFrames(many);
          let start = performance.now();
          for (let i = 0; i < singleCalls; i++) await model.predictFaces(gray);
          const single = (performance.now() - start) / singleCalls;
          start = performance.now();
          for (let i = 0; i < batchCalls; i++) await model.predictFrames(many);
          return { single, batch: (performance.now() - start) / batchCalls / batch };
        },
        { batch: BATCH, singleCalls: SINGLE_CALLS, batchCalls: BATCH_CALLS, inputSize: resolved.inputSize },
      );
  };
  runners.push({ name: 'page, headless Chromium (tfjs-wasm)', run: await pageRunner('') });
  if (args.webgl)
    runners.push({ name: 'page, headless Chromium (tfjs-webgl)', run: await pageRunner('?backend=webgl') });
  runners.push({ name: 'onnxruntime-node, 1 thread', run: await onnxRunner(1) });
  runners.push({ name: 'onnxruntime-node, default threads', run: await onnxRunner() });
  runners.push({ name: 'native engine (Node)', run: await engineRunner(await loadNativeEngine()) });
  runners.push({ name: 'tfjs-wasm (Node)', run: await engineRunner(await createTfjsEngine()) });

  const results = new Map<string, Figures[]>(runners.map((r) => [r.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const runner of runners) results.get(runner.name)!.push(await runner.run());
  }
  console.log(
    `${args.net}, ms per face (median of ${rounds} interleaved rounds; 1 face per call / ${BATCH} per call)`,
  );
  const rows = [...results].map(([name, figures]) => ({
    name,
    single: median(figures.map((f) => f.single)),
    batch: median(figures.map((f) => f.batch)),
  }));
  for (const row of rows) {
    console.log(
      `  ${row.name.padEnd(38)} ${row.single.toFixed(2).padStart(8)} ms   ${row.batch.toFixed(3).padStart(8)} ms`,
    );
  }
  console.log(JSON.stringify({ net: args.net, batch: BATCH, rounds, results: rows }));
} finally {
  await closeAll();
  await rm(dir, { recursive: true, force: true });
}
