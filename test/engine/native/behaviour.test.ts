// What the native engine promises beyond raw layer math: the masked loss,
// seeded dropout, the exact Nesterov update, weights and optimizer state
// crossing the boundary losslessly, the thread option, and its errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import type { NamedTensor } from '../../../src/engine/engine.js';
import { loadNativeEngine } from '../../../src/engine/native/native-engine.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import { initWeights } from '../../../src/nn/init.js';
import { presetSpec } from '../../../src/nn/presets.js';
import type { NetworkSpec } from '../../../src/nn/spec.js';
import { randomBatch, randomWeights, resolved, skipNative } from './fixtures.js';
import { LAYER_CASES } from './layer-cases.js';
import { referencePass } from '../../reference/reference-net.js';

const miniNet2 = LAYER_CASES.find((c) => c.name === 'net2 in miniature')!.spec;
const withDropout: NetworkSpec = {
  layers: [
    { kind: 'input', shape: [1, 12, 12] },
    { kind: 'conv2d', filters: 6, kernelSize: 3 },
    { kind: 'maxpool2d', poolSize: 2 },
    { kind: 'dropout', rate: 0.3 },
    { kind: 'dense', units: 16 },
    { kind: 'dropout', rate: 0.5 },
    { kind: 'dense', units: 4, activation: 'linear' },
  ],
};
const hyper = { learningRate: 0.05, momentum: 0.9 };

function sameTensors(a: NamedTensor[], b: NamedTensor[]): boolean {
  return (
    a.length === b.length &&
    a.every((t, i) => t.name === b[i].name && t.data.every((v, j) => Object.is(v, b[i].data[j])))
  );
}

describe('native engine behaviour', { skip: skipNative }, () => {
  test('the loss ignores NaN targets, and is 0 with no gradient when all are missing', async () => {
    const engine = await loadNativeEngine();
    const network = await engine.compile(miniNet2);
    const weights = randomWeights(network.spec, 3);
    await network.setWeights(weights);
    const { x, y } = randomBatch(network.spec, 5, 4, 0.4);
    assert.ok(y.some(Number.isNaN) && !y.every(Number.isNaN));
    const ref = referencePass(network.spec, weights, x, y);
    const loss = await network.evaluateLoss(x, y);
    assert.ok(Number.isFinite(loss) && Math.abs(loss - ref.loss) < 1e-5 * ref.loss, `${loss} vs ${ref.loss}`);
    // Changing a missing target's neighbour's prediction target changes nothing else: the output bias gradient is
    // zero exactly in the columns that are missing in every row.
    const allMissing = new Float32Array(y.length).fill(NaN);
    assert.equal(await network.evaluateLoss(x, allMissing), 0);
    for (const grad of await network.gradients(x, allMissing))
      assert.ok(
        grad.data.every((v) => v === 0),
        grad.name,
      );
    const column = y.slice();
    for (let row = 0; row < 5; row++) column[row * 30 + 7] = NaN;
    const grads = await network.gradients(x, column);
    assert.equal(grads.find((g) => g.name === 'output.b')!.data[7], 0);
    assert.notEqual(grads.find((g) => g.name === 'output.b')!.data[6], 0);
    network.dispose();
  });

  test('inverted dropout: the rate of dropped units, the 1/(1-rate) scale, and the same masks for the same seed', async () => {
    const engine = await loadNativeEngine();
    const rate = 0.3;
    const spec: NetworkSpec = {
      layers: [
        { kind: 'input', shape: [4000] },
        { kind: 'dropout', rate },
        { kind: 'dense', units: 1, activation: 'linear' },
      ],
    };
    const run = async (seed: number) => {
      const network = await engine.compile(spec);
      await network.setWeights([
        { name: 'output.W', shape: [4000, 1], data: new Float32Array(4000) },
        { name: 'output.b', shape: [1], data: new Float32Array(1) },
      ]);
      // With W = 0, b = 0, x = 1, y = 1: dL/dW_i = -2 * mask_i / (1 - rate); one step with lr 1, momentum 0
      // leaves W_i = 2 / (1 - rate) where kept and 0 where dropped.
      await network.trainStep(new Float32Array(4000).fill(1), new Float32Array([1]), {
        learningRate: 1,
        momentum: 0,
        dropoutSeed: seed,
      });
      const w = (await network.getWeights())[0].data;
      network.dispose();
      return w;
    };
    const first = await run(17);
    const kept = first.filter((v) => v !== 0);
    const dropped = 1 - kept.length / first.length;
    assert.ok(Math.abs(dropped - rate) < 0.03, `dropped ${dropped}`);
    for (const v of kept) assert.ok(Math.abs(v - 2 / (1 - rate)) < 1e-5, `kept value ${v}`);
    assert.deepEqual(await run(17), first);
    assert.notDeepEqual(await run(18), first);
  });

  test('training with dropout repeats exactly for the same seeds', async () => {
    const engine = await loadNativeEngine();
    const spec = resolved(withDropout);
    const weights = randomWeights(spec, 5);
    const { x, y } = randomBatch(spec, 9, 6);
    const train = async (seeds: number[]) => {
      const network = await engine.compile(withDropout);
      await network.setWeights(weights);
      const losses = [];
      for (const dropoutSeed of seeds) losses.push(await network.trainStep(x, y, { ...hyper, dropoutSeed }));
      const result = {
        losses,
        weights: await network.getWeights(),
        evalLoss: await network.evaluateLoss(x, y),
      };
      network.dispose();
      return result;
    };
    const a = await train([1, 2, 3]);
    const b = await train([1, 2, 3]);
    const c = await train([4, 5, 6]);
    assert.deepEqual(a.losses, b.losses);
    assert.ok(sameTensors(a.weights, b.weights));
    assert.notDeepEqual(a.losses.slice(1), c.losses.slice(1));
    // Dropout is on in trainStep only: the first step's loss differs from the loss without dropout.
    const network = await engine.compile(withDropout);
    await network.setWeights(weights);
    assert.notEqual(
      await network.trainStep(x, y, { ...hyper, dropoutSeed: 1 }),
      await (async () => {
        const plain = await engine.compile(withDropout);
        await plain.setWeights(weights);
        return plain.evaluateLoss(x, y);
      })(),
    );
    network.dispose();
  });

  test("one step is Lasagne's Nesterov momentum, and optimizer state round-trips", async () => {
    const engine = await loadNativeEngine();
    const network = await engine.compile(miniNet2);
    const weights = randomWeights(network.spec, 8);
    const velocity = randomWeights(network.spec, 9).map((t) => ({ ...t, data: t.data.map((v) => v * 0.01) }));
    await network.setWeights(weights);
    await network.setOptimizerState(velocity);
    assert.ok(sameTensors(await network.getOptimizerState(), velocity));
    const { x, y } = randomBatch(network.spec, 7, 10, 0.2);
    const grads = await network.gradients(x, y);
    await network.trainStep(x, y, { ...hyper, dropoutSeed: 0 });
    const after = await network.getWeights();
    const v1 = await network.getOptimizerState();
    const { learningRate: lr, momentum: m } = hyper;
    for (let k = 0; k < weights.length; k++) {
      for (let i = 0; i < weights[k].data.length; i++) {
        const v = m * velocity[k].data[i] - lr * grads[k].data[i];
        const p = weights[k].data[i] + m * v - lr * grads[k].data[i];
        assert.ok(Math.abs(v1[k].data[i] - v) < 1e-6, `${weights[k].name}[${i}] velocity`);
        assert.ok(Math.abs(after[k].data[i] - p) < 1e-6, `${weights[k].name}[${i}] value`);
      }
    }
    // A second network given the same weights and state takes the same next step.
    const twin = await engine.compile(miniNet2);
    await twin.setWeights(after);
    await twin.setOptimizerState(v1);
    assert.equal(
      await twin.trainStep(x, y, { ...hyper, dropoutSeed: 1 }),
      await network.trainStep(x, y, { ...hyper, dropoutSeed: 1 }),
    );
    assert.ok(sameTensors(await twin.getWeights(), await network.getWeights()));
    network.dispose();
    twin.dispose();
  });

  test('weights round-trip bit for bit, before and after the first batch', async () => {
    const engine = await loadNativeEngine();
    for (const layerCase of LAYER_CASES) {
      const network = await engine.compile(layerCase.spec);
      const weights = randomWeights(network.spec, 12);
      await network.setWeights(weights);
      assert.ok(sameTensors(await network.getWeights(), weights), layerCase.name);
      await network.predict(randomBatch(network.spec, 3, 1).x);
      assert.ok(sameTensors(await network.getWeights(), weights), `${layerCase.name} after predict`);
      const other = randomWeights(network.spec, 13);
      await network.setWeights(other);
      assert.ok(sameTensors(await network.getWeights(), other), `${layerCase.name} set after predict`);
      network.dispose();
    }
  });

  test('predict and evaluateLoss on a batch larger than a plan (300 = 128 + 128 + 44) match the reference', async () => {
    const engine = await loadNativeEngine();
    const network = await engine.compile(miniNet2);
    const weights = randomWeights(network.spec, 14);
    await network.setWeights(weights);
    const { x, y } = randomBatch(network.spec, 300, 15, 0.2);
    const ref = referencePass(network.spec, weights, x, y);
    const output = await network.predict(x);
    assert.equal(output.length, 300 * 30);
    for (let i = 0; i < output.length; i++)
      assert.ok(Math.abs(output[i] - ref.output[i]) < 1e-5, `output ${i}`);
    const loss = await network.evaluateLoss(x, y);
    assert.ok(Math.abs(loss - ref.loss) < 1e-5 * ref.loss, `${loss} vs ${ref.loss}`);
    network.dispose();
  });

  test('the thread option is honoured', async () => {
    const engine = await loadNativeEngine();
    const one = await engine.compile(miniNet2, { threads: 1 });
    assert.equal(one.threads, 1);
    assert.equal(await one.threadsInUse(), 1);
    const all = await engine.compile(miniNet2);
    assert.equal(all.threads, engine.defaultThreads);
    assert.equal(await all.threadsInUse(), engine.defaultThreads);
    const engineWide = await loadNativeEngine({ threads: 1 });
    assert.equal(await (await engineWide.compile(miniNet2)).threadsInUse(), 1);
    if (engine.defaultThreads >= 2) {
      assert.equal(await (await engine.compile(miniNet2, { threads: 2 })).threadsInUse(), 2);
    }
    // One thread or many, the network computes the same thing.
    const weights = randomWeights(one.spec, 2);
    const { x } = randomBatch(one.spec, 16, 3);
    await one.setWeights(weights);
    await all.setWeights(weights);
    const a = await one.predict(x);
    const b = await all.predict(x);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5);
    await assert.rejects(engine.compile(miniNet2, { threads: 0 }), ConfigError);
    await assert.rejects(loadNativeEngine({ threads: 1.5 }), ConfigError);
  });

  test('overlapping calls are queued, never run at once', async () => {
    const engine = await loadNativeEngine();
    const spec = resolved(miniNet2);
    const weights = randomWeights(spec, 21);
    const { x, y } = randomBatch(spec, 8, 22);
    const a = await engine.compile(miniNet2);
    const b = await engine.compile(miniNet2);
    await a.setWeights(weights);
    await b.setWeights(weights);
    const fired = await Promise.all([1, 2, 3].map((s) => a.trainStep(x, y, { ...hyper, dropoutSeed: s })));
    const awaited = [];
    for (const s of [1, 2, 3]) awaited.push(await b.trainStep(x, y, { ...hyper, dropoutSeed: s }));
    assert.deepEqual(fired, awaited);
    a.dispose();
    b.dispose();
    await assert.rejects(a.predict(x), /disposed/);
  });

  test('the caller may refill its batch arrays as soon as a call returns its promise', async () => {
    const engine = await loadNativeEngine();
    const spec = resolved(miniNet2);
    const weights = randomWeights(spec, 23);
    const { x, y } = randomBatch(spec, 8, 24);
    const a = await engine.compile(miniNet2);
    const b = await engine.compile(miniNet2);
    await a.setWeights(weights);
    await b.setWeights(weights);
    const xa = x.slice();
    const ya = y.slice();
    const pending = a.trainStep(xa, ya, { ...hyper, dropoutSeed: 1 });
    xa.fill(5);
    ya.fill(-5);
    assert.equal(await pending, await b.trainStep(x, y, { ...hyper, dropoutSeed: 1 }));
    assert.ok(sameTensors(await a.getWeights(), await b.getWeights()));
    a.dispose();
    b.dispose();
  });

  test('the JS thread stays free while a training step runs', async () => {
    const engine = await loadNativeEngine();
    const network = await engine.compile(presetSpec('net2', 30));
    await network.setWeights(initWeights(network.spec, 1));
    const { x, y } = randomBatch(network.spec, 32, 2);
    await network.trainStep(x, y, { ...hyper, dropoutSeed: 0 }); // builds the plan
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const start = performance.now();
    await network.trainStep(x, y, { ...hyper, dropoutSeed: 1 });
    const elapsed = performance.now() - start;
    clearInterval(timer);
    // A step that blocked the event loop would let at most one tick through.
    assert.ok(ticks >= 3, `${ticks} timer ticks during a ${elapsed.toFixed(0)} ms step`);
    network.dispose();
  });

  test('bad input gets errors that name the layer', async () => {
    const engine = await loadNativeEngine();
    const network = await engine.compile(miniNet2);
    await assert.rejects(
      network.predict(new Float32Array(401)),
      (e: unknown) => e instanceof ShapeError && e.layer === 'input',
    );
    await assert.rejects(
      network.evaluateLoss(new Float32Array(400), new Float32Array(29)),
      (e: unknown) => e instanceof ShapeError && e.layer === 'output',
    );
    const weights = randomWeights(network.spec, 1);
    await assert.rejects(
      network.setWeights(weights.slice(1)),
      (e: unknown) => e instanceof ShapeError && e.layer === 'conv1',
    );
    const wrong = weights.map((t) =>
      t.name === 'hidden1.W' ? { ...t, shape: [t.shape[1], t.shape[0]] } : t,
    );
    await assert.rejects(network.setWeights(wrong), /hidden1\.W/);
    await assert.rejects(network.setWeights([...weights, { ...weights[0], name: 'nope.W' }]), /nope\.W/);
    network.dispose();
  });

  test('without the addon, loading names libdnnl-dev and npm run build', () => {
    const script =
      "import('./src/engine/native/native-engine.ts').then(m => m.loadNativeEngine()).catch(e => { console.log(e.name + ': ' + e.message); });";
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, FACEPOINTS_NATIVE_ADDON: '/nonexistent/facepoints_native.node' },
      encoding: 'utf8',
    });
    assert.match(child.stdout, /EngineUnavailableError: .*libdnnl-dev.*npm run build/);
  });
});
