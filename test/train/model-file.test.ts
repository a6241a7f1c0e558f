import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelFileError } from '../../src/errors.js';
import { initWeights } from '../../src/nn/init.js';
import { resolveSpec, type NetworkSpec } from '../../src/nn/spec.js';
import { parseModelFile, serializeModelFile, type ModelContent } from '../../src/train/model-file.js';
import { readModelFile, writeModelFile } from '../../src/train/model-file-node.js';

const spec: NetworkSpec = {
  layers: [
    { kind: 'input', shape: [1, 6, 6] },
    { kind: 'conv2d', filters: 2, kernelSize: 3 },
    { kind: 'dense', units: 4, activation: 'linear' },
  ],
};

function content(): ModelContent {
  const weights = initWeights(resolveSpec(spec), 3);
  return {
    spec,
    seed: 3,
    weights,
    optimizerState: weights.map((w) => ({ ...w, data: w.data.map((v) => v / 10) })),
    variables: { updateLearningRate: 0.03, updateMomentum: 0.9 },
    history: [
      {
        epoch: 1,
        trainLoss: 0.5,
        validLoss: NaN,
        trainLossBest: true,
        validLossBest: false,
        trainValRatio: NaN,
        dur: 1,
      },
    ],
    training: {
      maxEpochs: 10,
      regression: true,
      verbose: 0,
      batchIteratorTrain: { type: 'BatchIterator', batchSize: 128, shuffle: true },
      batchIteratorTest: null,
      trainSplit: null,
      callbacks: [{ type: 'AdjustVariable', name: 'updateLearningRate', start: 0.03, stop: 0.0001 }],
      droppedCallbacks: 0,
    },
    callbackState: {
      EarlyStopping: { bestLoss: 0.5, bestEpoch: 1, bestWeights: weights, resumeWeights: null },
    },
    metadata: { schema: 'kaggle15', extra: new Float32Array([1, Infinity]) },
  };
}

test('a model survives bytes: tensors, NaN, nested Float32Arrays', () => {
  const original = content();
  const parsed = parseModelFile(serializeModelFile(original));
  assert.deepEqual(parsed, original);
  assert.ok(parsed.weights[0].data instanceof Float32Array);
});

test('corrupt, truncated or foreign bytes fail with a ModelFileError saying what is wrong', () => {
  const bytes = serializeModelFile(content());
  const flipped = Uint8Array.from(bytes);
  flipped[bytes.length - 40] ^= 0x10;
  assert.throws(
    () => parseModelFile(flipped, 'net.fpm'),
    (e: unknown) =>
      e instanceof ModelFileError && e.file === 'net.fpm' && /checksum mismatch/.test(e.message),
  );
  assert.throws(
    () => parseModelFile(bytes.subarray(0, bytes.length - 100), 'net.fpm'),
    /net\.fpm: truncated: \d+ bytes of the \d+/,
  );
  assert.throws(() => parseModelFile(bytes.subarray(0, 10), 'net.fpm'), /truncated/);
  assert.throws(
    () => parseModelFile(new TextEncoder().encode('{"weights": []}'), 'net.json'),
    /not a facepoints model file/,
  );
  const newer = Uint8Array.from(bytes);
  newer[8] = 9;
  assert.throws(() => parseModelFile(newer), /format version 9 is newer/);
});

test('files are written atomically and a bad file is reported without being touched', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'facepoints-model-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'net.fpm');
  await writeModelFile(path, content());
  assert.deepEqual(await readdir(dir), ['net.fpm'], 'no temp file left behind');
  assert.deepEqual((await readModelFile(path)).metadata.schema, 'kaggle15');

  const good = await readFile(path);
  for (const damage of [(b: Buffer) => b.subarray(0, b.length - 7), (b: Buffer) => ((b[200] ^= 1), b)]) {
    const bad = damage(Buffer.from(good));
    await writeFile(path, bad);
    await assert.rejects(
      readModelFile(path),
      (e: unknown) => e instanceof ModelFileError && e.message.startsWith(path),
    );
    assert.deepEqual(await readFile(path), bad, 'the file is byte-identical after the failed load');
  }
  await assert.rejects(readModelFile(join(dir, 'missing.fpm')), /missing\.fpm: does not exist/);
});

test('format version 1 while a net trains as before; 2 with Adam or another loss; Adam state is checked', () => {
  const nesterov = content();
  assert.equal(new DataView(serializeModelFile(nesterov).buffer).getUint32(8, true), 1);
  const withLoss = { ...nesterov, training: { ...nesterov.training, loss: { kind: 'l1' as const } } };
  assert.equal(new DataView(serializeModelFile(withLoss).buffer).getUint32(8, true), 2);
  assert.deepEqual(parseModelFile(serializeModelFile(withLoss)).training.loss, { kind: 'l1' });

  const weights = nesterov.weights;
  const adam: ModelContent = {
    ...nesterov,
    optimizer: 'adam',
    variables: { updateLearningRate: 0.001, updateBeta1: 0.9, updateBeta2: 0.999, updateEpsilon: 1e-8 },
    optimizerState: [
      ...weights.flatMap((w) => [
        { ...w, name: `${w.name}/m`, data: w.data.map((v) => v / 10) },
        { ...w, name: `${w.name}/v`, data: w.data.map((v) => v * v) },
      ]),
      { name: 'step', shape: [1], data: Float32Array.of(17) },
    ],
  };
  const bytes = serializeModelFile(adam);
  assert.equal(new DataView(bytes.buffer).getUint32(8, true), 2);
  assert.deepEqual(parseModelFile(bytes), adam);
  // Adam's state under a Nesterov file (or the other way round) fails naming what is missing.
  assert.throws(
    () => parseModelFile(serializeModelFile({ ...adam, optimizer: undefined }), 'x.fpm'),
    /x\.fpm: optimizer state \(nesterov\): conv1\.W is missing/,
  );
  assert.throws(
    () => parseModelFile(serializeModelFile({ ...nesterov, optimizer: 'adam' }), 'x.fpm'),
    /optimizer state \(adam\): conv1\.W\/m is missing/,
  );
  assert.throws(
    () => parseModelFile(serializeModelFile({ ...adam, optimizer: 'sgd' as 'adam' }), 'x.fpm'),
    /optimizer must be nesterov or adam/,
  );
  assert.throws(
    () =>
      parseModelFile(
        serializeModelFile({
          ...nesterov,
          training: { ...nesterov.training, loss: { kind: 'wing', w: -1 } },
        }),
        'x.fpm',
      ),
    /wing w must be a positive number/,
  );
});
