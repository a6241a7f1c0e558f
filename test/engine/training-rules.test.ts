// The losses and update rules of engine.ts on both engines, against the
// float64 reference (test/reference/), at batch 1, 7 and 128, elementwise
// with a relative and an absolute tolerance:
// - every loss: value and gradients of every parameter;
// - every update rule (Nesterov and Adam, with and without weight decay):
//   weights and optimizer state after several steps whose hyper-parameters
//   change between steps, as callbacks change them. The reference applies
//   each update to the gradients the engine itself computed at that step
//   (checked against the reference's own gradients in the same loop), so
//   the update rule is measured to float32 rounding;
// - optimizer state moved to a fresh network continues bit-identically.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { Engine, NamedTensor, Network, StepHyperparams } from '../../src/engine/engine.js';
import { loadNativeEngine, nativeEngineAvailable } from '../../src/engine/native/native-engine.js';
import { createTfjsEngine } from '../../src/engine/tfjs/tfjs-engine.js';
import type { LossSpec } from '../../src/nn/loss.js';
import { optimizerStateShapes, type OptimizerName } from '../../src/nn/optimizer.js';
import { resolveSpec, type NetworkSpec } from '../../src/nn/spec.js';
import { assertClose } from '../reference/close.js';
import { LOSS_CASES } from '../reference/reference-losses.js';
import { referenceOptimizer, referenceUpdate } from '../reference/reference-optimizers.js';
import { referencePass, toParams } from '../reference/reference-net.js';
import { randomBatch, randomWeights } from './native/fixtures.js';

const NETS: Record<string, NetworkSpec> = {
  'net2 in miniature': {
    layers: [
      { kind: 'input', shape: [1, 16, 16] },
      { kind: 'conv2d', filters: 16, kernelSize: 3 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 8, kernelSize: 2 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'dense', units: 12 },
      { kind: 'dense', units: 10, activation: 'linear' },
    ],
  },
  'dense on flat input': {
    layers: [
      { kind: 'input', shape: [9] },
      { kind: 'dense', units: 8 },
      { kind: 'dense', units: 6, activation: 'linear' },
    ],
  },
};
const BATCH_SIZES = [1, 7, 128];

/** Largest |value| of a tensor: absolute tolerances are scaled by it. */
function scaleOf(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

const ENGINES: { name: string; skip: string | false; load: () => Promise<Engine> }[] = [
  { name: 'tfjs', skip: false, load: () => createTfjsEngine() },
  {
    name: 'native',
    skip: nativeEngineAvailable()
      ? false
      : 'native addon not built (install libdnnl-dev, then npm run build)',
    load: async () => loadNativeEngine(),
  },
];

/** Steps whose hyper-parameters change as schedules would change them. */
const UPDATE_CASES: { title: string; optimizer: OptimizerName; loss?: LossSpec; steps: StepHyperparams[] }[] =
  [
    {
      title: 'Nesterov with weight decay',
      optimizer: 'nesterov',
      steps: [
        { learningRate: 0.05, momentum: 0.9, weightDecay: 0.01 },
        { learningRate: 0.03, momentum: 0.95, weightDecay: 0.01 },
        { learningRate: 0.01, momentum: 0.99, weightDecay: 0.02 },
      ],
    },
    {
      title: 'Adam (Lasagne defaults, then changed)',
      optimizer: 'adam',
      steps: [
        { learningRate: 0.001 },
        { learningRate: 0.002, beta1: 0.8 },
        { learningRate: 0.0005, beta1: 0.85, beta2: 0.99, epsilon: 1e-6 },
        { learningRate: 0.0005, beta1: 0.85, beta2: 0.99, epsilon: 1e-6 },
      ],
    },
    {
      title: 'Adam with weight decay, wing loss',
      optimizer: 'adam',
      loss: { kind: 'wing', w: 0.8, epsilon: 0.2 },
      steps: [
        { learningRate: 0.01, weightDecay: 0.05 },
        { learningRate: 0.01, weightDecay: 0.05 },
        { learningRate: 0.005, weightDecay: 0.1 },
      ],
    },
  ];

for (const engineCase of ENGINES) {
  describe(`${engineCase.name} engine: losses vs float64 reference`, { skip: engineCase.skip }, () => {
    for (const loss of LOSS_CASES) {
      for (const [title, netSpec] of Object.entries(NETS)) {
        for (const n of BATCH_SIZES) {
          test(`${loss.kind}, ${title}, batch ${n}`, async () => {
            const engine = await engineCase.load();
            const network = await engine.compile(netSpec);
            const spec = resolveSpec(netSpec);
            const weights = randomWeights(spec, 3 + n);
            await network.setWeights(weights);
            const { x, y } = randomBatch(spec, n, 5 * n, 0.15);
            const ref = referencePass(spec, weights, x, y, undefined, loss);
            const value = await network.evaluateLoss(x, y, loss);
            assertClose([value], [ref.loss], { rtol: 1e-5, atol: 1e-7 }, `${loss.kind} loss`);
            for (const grad of await network.gradients(x, y, loss)) {
              const expected = ref.grads.get(grad.name)!;
              assertClose(grad.data, expected, { rtol: 1e-3, atol: 1e-4 * scaleOf(expected) }, grad.name);
            }
            // trainStep resolves to the same loss (before its update).
            const stepped = await network.trainStep(x, y, {
              learningRate: 0,
              momentum: 0,
              dropoutSeed: 1,
              loss,
            });
            assertClose([stepped], [ref.loss], { rtol: 1e-5, atol: 1e-7 }, 'trainStep loss');
            network.dispose();
          });
        }
      }
    }
  });

  describe(`${engineCase.name} engine: update rules vs float64 reference`, { skip: engineCase.skip }, () => {
    for (const update of UPDATE_CASES) {
      for (const n of BATCH_SIZES) {
        test(`${update.title}, batch ${n}`, async () => {
          const netSpec = NETS['net2 in miniature'];
          const engine = await engineCase.load();
          const network = await engine.compile(netSpec, { optimizer: update.optimizer });
          assert.equal(network.optimizer, update.optimizer);
          const spec = resolveSpec(netSpec);
          const weights = randomWeights(spec, 40 + n);
          await network.setWeights(weights);
          const ref = referenceOptimizer(update.optimizer, weights);
          const stateShapes = optimizerStateShapes(spec, update.optimizer);
          for (const [k, hyper] of update.steps.entries()) {
            const { x, y } = randomBatch(spec, n, 100 * n + k, 0.1);
            const grads = await network.gradients(x, y, update.loss);
            // The engine's gradients at its current weights are the reference's ...
            const own = referencePass(
              spec,
              toParams(await network.getWeights()),
              x,
              y,
              undefined,
              update.loss,
            );
            for (const g of grads) {
              const expected = own.grads.get(g.name)!;
              assertClose(
                g.data,
                expected,
                { rtol: 1e-3, atol: 1e-4 * scaleOf(expected) },
                `step ${k + 1} ${g.name}`,
              );
            }
            // ... and its update of them is the reference's update rule.
            await network.trainStep(x, y, { ...hyper, dropoutSeed: k, loss: update.loss });
            referenceUpdate(ref, toParams(grads), hyper);
            for (const w of await network.getWeights()) {
              assertClose(
                w.data,
                ref.params.get(w.name)!,
                { rtol: 1e-5, atol: 1e-6 },
                `step ${k + 1} ${w.name}`,
              );
            }
            const state = await network.getOptimizerState();
            assert.deepEqual(
              state.map((s) => [s.name, s.shape]),
              stateShapes.map((s) => [s.name, s.shape]),
            );
            for (const s of state) {
              if (s.name === 'step') {
                assert.deepEqual([...s.data], [k + 1]);
                continue;
              }
              const expected = ref.state.get(s.name)!;
              assertClose(
                s.data,
                expected,
                { rtol: 1e-5, atol: 1e-6 * scaleOf(expected) },
                `step ${k + 1} ${s.name}`,
              );
            }
          }
          network.dispose();
        });
      }
    }
  });

  describe(`${engineCase.name} engine: optimizer state resumes exactly`, { skip: engineCase.skip }, () => {
    for (const optimizer of ['nesterov', 'adam'] as const) {
      test(`${optimizer}: two steps, state moved to a fresh network, two more steps = four steps straight`, async () => {
        const netSpec = NETS['net2 in miniature'];
        const spec = resolveSpec(netSpec);
        const engine = await engineCase.load();
        const weights = randomWeights(spec, 77);
        const batches = [0, 1, 2, 3].map((k) => randomBatch(spec, 7, 900 + k, 0.1));
        const hyper = (k: number): StepHyperparams =>
          optimizer === 'adam'
            ? { learningRate: 0.01 / (k + 1), beta1: 0.9 - 0.01 * k, weightDecay: 0.01 }
            : { learningRate: 0.02 / (k + 1), momentum: 0.9, weightDecay: 0.01 };
        const run = async (net: Network, from: number, to: number) => {
          for (let k = from; k < to; k++) {
            await net.trainStep(batches[k].x, batches[k].y, {
              ...hyper(k),
              dropoutSeed: k,
              loss: { kind: 'smooth-l1' },
            });
          }
        };
        const straight = await engine.compile(netSpec, { optimizer });
        await straight.setWeights(weights);
        await run(straight, 0, 4);

        const first = await engine.compile(netSpec, { optimizer });
        await first.setWeights(weights);
        await run(first, 0, 2);
        const savedWeights: NamedTensor[] = await first.getWeights();
        const savedState: NamedTensor[] = await first.getOptimizerState();
        first.dispose();
        const second = await engine.compile(netSpec, { optimizer });
        await second.setWeights(savedWeights);
        await second.setOptimizerState(savedState);
        await run(second, 2, 4);
        assert.deepEqual(await second.getWeights(), await straight.getWeights());
        assert.deepEqual(await second.getOptimizerState(), await straight.getOptimizerState());
        straight.dispose();
        second.dispose();
      });
    }

    test('setOptimizerState refuses the state of the other rule, naming what is missing', async () => {
      const engine = await engineCase.load();
      const netSpec = NETS['dense on flat input'];
      const nesterov = await engine.compile(netSpec);
      const adam = await engine.compile(netSpec, { optimizer: 'adam' });
      await assert.rejects(
        adam.setOptimizerState(await nesterov.getOptimizerState()),
        /Adam has no state tensor 'hidden1.W'/,
      );
      await assert.rejects(
        nesterov.setOptimizerState(await adam.getOptimizerState()),
        /no parameter 'hidden1.W\/m'/,
      );
      await assert.rejects(
        engine.compile(netSpec, { optimizer: 'sgd' as OptimizerName }),
        /optimizer must be nesterov or adam/,
      );
      await assert.rejects(
        adam.trainStep(new Float32Array(9), new Float32Array(6), {
          learningRate: 0.1,
          beta1: 1,
          dropoutSeed: 0,
        }),
        /beta1 must be in \[0, 1\)/,
      );
      nesterov.dispose();
      adam.dispose();
    });
  });
}
