import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';

import { kaggle15 } from '../../src/data/schemas.js';
import { selectEngine } from '../../src/engine/select.js';
import { UnsupportedLayerError } from '../../src/export/export-plan.js';
import { exportOnnx, ONNX_INPUT, ONNX_OUTPUT } from '../../src/export/onnx.js';
import { exportTfjs, type TfjsModelJson } from '../../src/export/tfjs-layers.js';
import { resolveSpec, type NetworkSpec } from '../../src/nn/spec.js';
import type { ModelContent } from '../../src/train/model-file.js';
import { writeModelFile } from '../../src/train/model-file-node.js';
import { runCli, tempDir } from '../cli/helpers.js';
import { EXPORT_SPECS, randomInput, randomModel } from './fixtures.js';

const TOLERANCE = 1e-5;
const COUNT = 5;

async function facepointsPredict(content: ModelContent, x: Float32Array): Promise<Float32Array> {
  const engine = await selectEngine('auto');
  const network = await engine.compile(content.spec);
  try {
    await network.setWeights(content.weights);
    return await network.predict(x);
  } finally {
    network.dispose();
  }
}

/** NCHW samples -> NHWC, as a tfjs user feeds the exported model. */
function toNhwc(x: Float32Array, [c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  const size = c * h * w;
  for (let n = 0; n < x.length / size; n++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++)
          out[n * size + (y * w + xx) * c + ch] = x[n * size + (ch * h + y) * w + xx];
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= TOLERANCE, `${what}: largest difference ${worst} > ${TOLERANCE}`);
}

/** Loads a tfjs export in Node through tf.io.fromMemory and predicts. */
async function tfjsPredict(
  modelJson: TfjsModelJson,
  weightData: ArrayBuffer,
  x: Float32Array,
  spec: NetworkSpec,
) {
  // Another module may have registered tfjs' wasm backend without starting it.
  await tf.ready();
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
      weightData,
      userDefinedMetadata: modelJson.userDefinedMetadata,
    }),
  );
  const inputShape = resolveSpec(spec).inputShape;
  const [c, h, w] = inputShape;
  const input =
    inputShape.length === 3
      ? tf.tensor4d(toNhwc(x, inputShape), [COUNT, h, w, c])
      : tf.tensor2d(x, [COUNT, inputShape[0]]);
  const output = model.predict(input) as tf.Tensor;
  const values = await output.data();
  tf.dispose([input, output]);
  model.dispose();
  return values;
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out.buffer;
}

for (const [name, spec] of Object.entries(EXPORT_SPECS)) {
  test(`tfjs export of the ${name} net predicts what facepoints predicts (Node, tf.io.fromMemory)`, async () => {
    const content = randomModel(spec, 11);
    const x = randomInput(spec, COUNT, 5);
    const expected = await facepointsPredict(content, x);
    const { modelJson, shards } = exportTfjs(content);
    const actual = await tfjsPredict(modelJson, concat(shards.map((s) => s.bytes)), x, spec);
    assertClose(actual, expected, `${name} via tfjs`);
  });

  test(`ONNX export of the ${name} net predicts what facepoints predicts (onnxruntime-node, two batch sizes)`, async () => {
    const content = randomModel(spec, 12);
    const session = await ort.InferenceSession.create(exportOnnx(content));
    const inputShape = resolveSpec(spec).inputShape;
    for (const count of [1, COUNT]) {
      const x = randomInput(spec, count, 6 + count);
      const expected = await facepointsPredict(content, x);
      const result = await session.run({
        [ONNX_INPUT]: new ort.Tensor('float32', x, [count, ...inputShape]),
      });
      assertClose(result[ONNX_OUTPUT].data as Float32Array, expected, `${name} via ONNX, batch ${count}`);
      assert.deepEqual(result[ONNX_OUTPUT].dims, [count, resolveSpec(spec).outputSize]);
    }
    await session.release();
  });
}

test('exported models carry the schema, flip pairs and scaling', async () => {
  const spec: NetworkSpec = {
    layers: [
      { kind: 'input', shape: [16] },
      { kind: 'dense', units: 30, activation: 'linear' },
    ],
  };
  const content = randomModel(spec, 3, { schema: 'kaggle15', columns: kaggle15.columns });
  const meta = exportTfjs(content).modelJson.userDefinedMetadata.facepoints;
  assert.equal(meta.schema, 'kaggle15');
  assert.deepEqual(meta.columns, kaggle15.columns);
  assert.deepEqual(meta.keypoints, kaggle15.keypoints);
  assert.deepEqual(meta.flipPairs, kaggle15.columnFlipPairs);
  assert.equal(meta.output.formula, 'pixel = v * 48 + 48');

  const session = await ort.InferenceSession.create(exportOnnx(content));
  // onnxruntime-node does not expose custom metadata; read it back from the file's bytes instead.
  const bytes = Buffer.from(exportOnnx(content)).toString('latin1');
  assert.ok(bytes.includes('pixel = v * 48 + 48'));
  assert.ok(bytes.includes(JSON.stringify(kaggle15.columnFlipPairs)));
  assert.deepEqual(session.inputNames, [ONNX_INPUT]);
  assert.deepEqual(session.outputNames, [ONNX_OUTPUT]);
  await session.release();
});

test('export writes the new layers as intended: folded batch norms, tfjs same or ZeroPadding2D, ONNX pads', () => {
  const classes = (spec: NetworkSpec) =>
    (exportTfjs(randomModel(spec, 1)).modelJson.modelTopology.config.layers as { class_name: string }[]).map(
      (l) => l.class_name,
    );
  const convConfigs = (spec: NetworkSpec) =>
    (
      exportTfjs(randomModel(spec, 1)).modelJson.modelTopology.config.layers as {
        class_name: string;
        config: { name: string; padding: unknown; strides: unknown };
      }[]
    ).filter((l) => l.class_name === 'Conv2D' || l.class_name === 'ZeroPadding2D');
  // conv8-bn-aug: every batch norm folds; stride-2 'same' (asymmetric pads) stays tfjs 'same'.
  const conv8 = EXPORT_SPECS['conv8-bn-aug'];
  assert.ok(!classes(conv8).includes('BatchNormalization'));
  assert.ok(!classes(conv8).includes('ZeroPadding2D'));
  assert.deepEqual(
    convConfigs(conv8).map((l) => [l.config.padding, l.config.strides]),
    [2, 1, 2, 1, 2, 1, 2, 1].map((s) => ['same', [s, s]]),
  );
  // new-layers: explicit padding 1 differs from 'same' on the width (0, 1) -> ZeroPadding2D + valid.
  const layers = classes(EXPORT_SPECS['new-layers']);
  assert.deepEqual(layers, [
    'ZeroPadding2D',
    'Conv2D',
    'LeakyReLU',
    'BatchNormalization',
    'Activation',
    'ZeroPadding2D',
    'Conv2D',
    'AveragePooling2D',
    'Conv2D',
    'GlobalAveragePooling2D',
    'BatchNormalization',
    'LeakyReLU',
    'Dense',
    'LeakyReLU',
    'Dense',
  ]);
  assert.deepEqual(
    convConfigs(EXPORT_SPECS['new-layers']).map((l) => l.config.padding),
    [
      [
        [1, 1],
        [1, 1],
      ],
      'valid',
      [
        [2, 2],
        [1, 1],
      ],
      'valid',
      'same',
    ],
  );
  // ONNX: the folded batch norms leave no BatchNormalization node in the conv8 stack.
  const onnxText = (spec: NetworkSpec) => Buffer.from(exportOnnx(randomModel(spec, 1))).toString('latin1');
  assert.ok(!onnxText(conv8).includes('BatchNormalization'));
  assert.ok(onnxText(EXPORT_SPECS['new-layers']).includes('BatchNormalization'));
});

test('export refuses a layer option or a layer kind it does not know, naming the layer', () => {
  const dilated = randomModel(EXPORT_SPECS.gray, 1);
  (dilated.spec.layers[1] as unknown as Record<string, unknown>).dilation = 2;
  for (const exporter of [exportTfjs, exportOnnx]) {
    assert.throws(
      () => exporter(dilated),
      (error: Error) =>
        error instanceof UnsupportedLayerError &&
        /layer "conv1": option 'dilation' of conv2d cannot be exported/.test(error.message),
    );
  }
  // Spelled out at what export writes anyway, such options pass.
  const spelled = randomModel(EXPORT_SPECS.gray, 1);
  Object.assign(spelled.spec.layers[1], { dilation: 1, padding: 'valid', stride: 1 });
  assert.doesNotThrow(() => exportOnnx(spelled));
  const unknown = randomModel(EXPORT_SPECS.flat, 1);
  unknown.spec = {
    layers: [
      ...unknown.spec.layers.slice(0, 2),
      { kind: 'capsule', name: 'caps1' } as never,
      unknown.spec.layers[2],
    ],
  };
  assert.throws(() => exportOnnx(unknown), /layer "caps1"/);
});

test('facepoints export writes model.json with shards, and model.onnx, from a model file', async () => {
  const { dir, cleanup } = await tempDir('export-cli');
  try {
    const content = randomModel(EXPORT_SPECS.gray, 21, {
      schema: 'kaggle15',
      columns: kaggle15.columns.slice(0, 6),
    });
    const modelPath = join(dir, 'net.fpm');
    await writeModelFile(modelPath, content);
    const tfjsOut = await runCli('export', modelPath, '--format', 'tfjs', '--out', join(dir, 'tfjs'));
    assert.equal(tfjsOut.code, 0, tfjsOut.stderr);
    const modelJson = JSON.parse(await readFile(join(dir, 'tfjs', 'model.json'), 'utf8')) as TfjsModelJson;
    const shards = await Promise.all(
      modelJson.weightsManifest[0].paths.map((p) => readFile(join(dir, 'tfjs', p))),
    );
    const x = randomInput(EXPORT_SPECS.gray, COUNT, 9);
    const expected = await facepointsPredict(content, x);
    assertClose(await tfjsPredict(modelJson, concat(shards), x, EXPORT_SPECS.gray), expected, 'CLI tfjs');
    // Column pairs among the model's own six columns: left/right eye centres (0,2) and (1,3).
    assert.deepEqual(modelJson.userDefinedMetadata.facepoints.flipPairs, [
      [0, 2],
      [1, 3],
    ]);

    const onnxOut = await runCli('export', modelPath, '--format', 'onnx', '--out', join(dir, 'onnx'));
    assert.equal(onnxOut.code, 0, onnxOut.stderr);
    assert.match(onnxOut.stdout, /model\.onnx/);
    const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
    const result = await session.run({ input: new ort.Tensor('float32', x, [COUNT, 1, 14, 14]) });
    assertClose(result.keypoints.data as Float32Array, expected, 'CLI onnx');
    await session.release();

    const bad = await runCli('export', modelPath, '--format', 'coreml', '--out', dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /tfjs, onnx/);
  } finally {
    await cleanup();
  }
});
