// resumeRun, the library behind `train --resume`: bit-identical to an
// uninterrupted run on both engines, and schedules that go on (not jump) when
// the run is given more epochs.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { generateFaces } from '../../src/data/synthetic-faces.js';
import { ConfigError } from '../../src/errors.js';
import { resumeRun } from '../../src/runs/resume-run.js';
import { RunFolder } from '../../src/runs/run-folder.js';
import { type TrainConfigInput, resolveTrainConfig } from '../../src/runs/train-config.js';
import { trainRun } from '../../src/runs/train-run.js';
import type { Callback } from '../../src/train/callbacks/types.js';
import { ENGINES, type EngineName } from '../engines.js';

const root = await mkdtemp(join(tmpdir(), 'facepoints-resume-run-'));
after(() => rm(root, { recursive: true, force: true }));

const SOURCE = 'synthetic:96';
const dataset = generateFaces({ count: 96, seed: 1, schema: 'kaggle15' });

/** A small dense net on the 96x96 faces, with dropout, flips and both schedules: everything a resume must carry on. */
function config(engine: EngineName, extra: TrainConfigInput = {}) {
  return resolveTrainConfig({
    layers: {
      layers: [
        { kind: 'input', shape: [1, 96, 96], name: 'input' },
        { kind: 'maxpool2d', poolSize: 4, name: 'pool1' },
        { kind: 'dense', units: 24, name: 'hidden4' },
        { kind: 'dropout', rate: 0.3, name: 'dropout4' },
        { kind: 'dense', units: 30, activation: 'linear', name: 'output' },
      ],
    },
    data: { source: SOURCE, masked: false },
    engine,
    batchSize: 16,
    maxEpochs: 4,
    flip: true,
    learningRate: { start: 0.05, stop: 0.005 },
    momentum: { start: 0.9, stop: 0.95 },
    ...extra,
  });
}

const stopAfter = (epoch: number): Callback => ({
  onEpochFinished: (net, history) => (history.length === epoch ? net.requestStop() : undefined),
});

async function history(dir: string) {
  return JSON.parse(await readFile(join(dir, 'history.json'), 'utf8')) as {
    epoch: number;
    trainLoss: number;
    validLoss: number;
  }[];
}

for (const { name: engine, skip } of ENGINES) {
  test(
    `${engine}: a run stopped after epoch 2 and resumed from its folder equals an uninterrupted run, bit for bit`,
    { skip },
    async () => {
      const straightDir = join(root, `${engine}-straight`);
      const straight = await trainRun({
        folder: await RunFolder.create(straightDir),
        config: config(engine),
        dataset,
      });
      const splitDir = join(root, `${engine}-split`);
      const first = await trainRun({
        folder: await RunFolder.create(splitDir),
        config: config(engine),
        dataset,
        callbacks: [stopAfter(2)],
      });
      assert.equal(first.record.status, 'interrupted');
      first.net.dispose();
      const log: string[] = [];
      const resumed = await resumeRun(splitDir, { log: { write: (t: string) => log.push(t) } });
      assert.match(log.join(''), /^resuming .* up to epoch 4 on synthetic:96: 96 rows\n/);
      assert.equal(resumed.net.engineName, straight.net.engineName);
      const a = await history(straightDir);
      const b = await history(splitDir);
      assert.deepEqual(
        b.map((r) => r.epoch),
        [1, 2, 3, 4],
      );
      assert.deepEqual(
        b.map((r) => [r.trainLoss, r.validLoss]),
        a.map((r) => [r.trainLoss, r.validLoss]),
      );
      assert.deepEqual(await resumed.net.getWeights(), await straight.net.getWeights());
      assert.deepEqual(await resumed.net.getOptimizerState(), await straight.net.getOptimizerState());
      assert.deepEqual(resumed.net.variables, straight.net.variables);
      straight.net.dispose();
      resumed.net.dispose();
    },
  );
}

test('given more epochs, the schedules go on from where they were to their stop values, and the log says so', async () => {
  const dir = join(root, 'longer');
  const first = await trainRun({
    folder: await RunFolder.create(dir),
    config: config('tfjs'),
    dataset,
    callbacks: [stopAfter(2)],
  });
  // After epoch 2 of 4: linspace(0.05, 0.005, 4)[1] = 0.035.
  const reached = first.net.variables.updateLearningRate;
  assert.equal(reached, Math.fround(0.035));
  first.net.dispose();
  const seen: number[] = [];
  const log: string[] = [];
  const resumed = await resumeRun(dir, {
    maxEpochs: 8,
    log: { write: (t: string) => log.push(t) },
    callbacks: [{ onEpochFinished: (net) => void seen.push(net.variables.updateLearningRate) }],
  });
  assert.match(
    log.join(''),
    /learning rate: goes on from 0\.0350000 after epoch 2 to 0\.005 at epoch 8 \(the run was set to 4 epochs\)/,
  );
  assert.match(log.join(''), /momentum: goes on from 0\.916667 after epoch 2 to 0\.95 at epoch 8/);
  // Epochs 3..8 train with linspace(0.035, 0.005, 7)[0..5] (the callback above runs before the schedule's):
  // down from where the run was, never back up.
  const expected = [0, 1, 2, 3, 4, 5].map((i) => Math.fround(reached + ((0.005 - reached) * i) / 6));
  assert.equal(seen.length, 6);
  seen.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) < 1e-8, `epoch ${i + 3}: ${v} vs ${expected[i]}`),
  );
  assert.equal(resumed.net.variables.updateLearningRate, Math.fround(0.005));
  const saved = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.equal(saved.maxEpochs, 8);
  assert.deepEqual(saved.learningRate, { start: 0.05, stop: 0.005, from: { epoch: 2, value: reached } });
  resumed.net.dispose();

  // Fewer epochs than the run has trained is refused.
  await assert.rejects(resumeRun(dir, { maxEpochs: 6 }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /already trained 8 epochs: give more than 8 epochs to go on/);
    return true;
  });
});
