/** Small models with random weights, as model-file content, for the export tests. */
import { initWeights } from '../../src/nn/init.js';
import { presetSpec } from '../../src/nn/presets.js';
import { resolveSpec, type LayerSpec, type NetworkSpec } from '../../src/nn/spec.js';
import { Rng } from '../../src/random/rng.js';
import { type ModelContent, untrainedModelContent } from '../../src/train/model-file.js';

/**
 * The conv8-bn-aug preset's own stack (3x3 'same' convs, stride 2 on the odd
 * ones, linear, each followed by batch norm + relu; dense, dropout, output)
 * with an eighth of its channels, a 16-unit hidden layer and 20x20 input:
 * 20 -> 10 -> 5 -> 3 -> 2, so the stride-2 'same' convs pad (0, 1) (tfjs'
 * asymmetric split) on the first two and (1, 1) on the last two.
 */
function smallConv8Bn(): NetworkSpec {
  const layers = presetSpec('conv8-bn-aug', 6).layers.map((layer): LayerSpec => {
    if (layer.kind === 'input') return { ...layer, shape: [1, 20, 20] };
    if (layer.kind === 'conv2d') return { ...layer, filters: layer.filters / 8 };
    if (layer.kind === 'dense' && layer.name === 'hidden') return { ...layer, units: 16 };
    return layer;
  });
  return { layers };
}

/** Nets that cover every layer kind and option, and both layout changes of the tfjs export. */
export const EXPORT_SPECS: Record<string, NetworkSpec> = {
  // One channel, conv -> pool -> conv (linear) -> dense after an image -> dropout -> dense.
  gray: {
    layers: [
      { kind: 'input', shape: [1, 14, 14] },
      { kind: 'conv2d', filters: 4, kernelSize: 3 },
      { kind: 'maxpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 5, kernelSize: [2, 3], activation: 'linear' },
      { kind: 'dense', units: 9 },
      { kind: 'dropout', rate: 0.3 },
      { kind: 'dense', units: 6, activation: 'linear' },
    ],
  },
  // Three channels and a non-square image: NCHW vs NHWC and the C,H,W -> H,W,C row order both matter.
  colour: {
    layers: [
      { kind: 'input', shape: [3, 9, 11] },
      { kind: 'conv2d', filters: 2, kernelSize: 2 },
      { kind: 'maxpool2d', poolSize: 3 },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
  // The accuracy preset's pattern: every batch norm folds into the linear conv / dense before it.
  'conv8-bn-aug': smallConv8Bn(),
  // Every other option: explicit padding (symmetric, so tfjs needs ZeroPadding2D; [h, w] with a
  // [h, w] stride), 'same' with stride 1 (pad (0, 1)), leaky relu (default and given leakiness)
  // in convs, dense layers and batch norms, batch norms that stay layers (after a relu conv, on
  // flat features, with its own epsilon) and ones folded into a conv and a dense layer, average
  // and global average pools.
  'new-layers': {
    layers: [
      { kind: 'input', shape: [2, 15, 12] },
      { kind: 'conv2d', filters: 3, kernelSize: 3, padding: 1, stride: 2, activation: 'leakyRelu' },
      { kind: 'batchnorm', activation: 'relu' },
      { kind: 'conv2d', filters: 4, kernelSize: [3, 2], padding: [2, 1], stride: [1, 2] },
      { kind: 'avgpool2d', poolSize: 2 },
      { kind: 'conv2d', filters: 5, kernelSize: 2, padding: 'same', activation: 'linear' },
      { kind: 'batchnorm', epsilon: 1e-3 },
      { kind: 'globalavgpool' },
      { kind: 'batchnorm', activation: 'leakyRelu', leakiness: 0.2, epsilon: 0.05 },
      { kind: 'dense', units: 6, activation: 'linear' },
      { kind: 'batchnorm', activation: 'leakyRelu' },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
  // A heatmap head: a non-square frame, so the x and y cell centres differ, into soft-argmax.
  'soft-argmax': {
    layers: [
      { kind: 'input', shape: [1, 12, 10] },
      { kind: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', stride: 2, activation: 'linear' },
      { kind: 'batchnorm', activation: 'relu' },
      { kind: 'conv2d', filters: 3, kernelSize: 1, activation: 'linear' },
      { kind: 'softargmax' },
    ],
  },
  // An average pool straight into a dense layer (the H, W, C row order) with leaky relu.
  'avgpool-dense': {
    layers: [
      { kind: 'input', shape: [3, 8, 10] },
      { kind: 'avgpool2d', poolSize: 3 },
      { kind: 'dense', units: 5, activation: 'leakyRelu', leakiness: 0.3 },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
  },
  // Flat input, as the tutorial's net1.
  flat: {
    layers: [
      { kind: 'input', shape: [20] },
      { kind: 'dense', units: 8 },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
};

/**
 * Ranges of the random biases and batch norm tensors (which start at 0 or 1
 * otherwise). Running means reach above the mostly positive activations of
 * [0, 1] inputs, so batch norm outputs change sign and their activations matter.
 */
const RANDOM_RANGES: Record<string, [number, number]> = {
  b: [-0.5, 0.5],
  gamma: [0.5, 1.5],
  beta: [-0.5, 0.5],
  mean: [-0.5, 1.5],
  var: [0.3, 2],
};

/**
 * Content of a model file holding `spec` with seeded random weights; biases
 * and batch norms' gamma, beta, running mean and variance are random too.
 */
export function randomModel(
  spec: NetworkSpec,
  seed: number,
  metadata: Record<string, unknown> = {},
): ModelContent {
  const resolved = resolveSpec(spec);
  const rng = new Rng(seed, 'export-bias');
  const weights = initWeights(resolved, seed).map((w) => {
    const range = RANDOM_RANGES[w.name.slice(w.name.lastIndexOf('.') + 1)];
    return range ? { ...w, data: w.data.map(() => rng.uniform(range[0], range[1])) } : w;
  });
  return untrainedModelContent(structuredClone(spec), weights, seed, metadata);
}

/** `count` random samples of the spec's input, values in [0, 1]. */
export function randomInput(spec: NetworkSpec, count: number, seed: number): Float32Array {
  const size = resolveSpec(spec).inputSize;
  const rng = new Rng(seed, 'export-input');
  return Float32Array.from({ length: count * size }, () => rng.uniform(0, 1));
}
