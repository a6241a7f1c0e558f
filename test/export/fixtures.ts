/** Small models with random weights, as model-file content, for the export tests. */
import { initWeights } from '../../src/nn/init.js';
import { resolveSpec, type NetworkSpec } from '../../src/nn/spec.js';
import { Rng } from '../../src/random/rng.js';
import { type ModelContent, untrainedModelContent } from '../../src/train/model-file.js';

/** Nets that cover every layer kind and both layout changes of the tfjs export. */
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
  // Flat input, as the tutorial's net1.
  flat: {
    layers: [
      { kind: 'input', shape: [20] },
      { kind: 'dense', units: 8 },
      { kind: 'dense', units: 4, activation: 'linear' },
    ],
  },
};

/** Content of a model file holding `spec` with seeded random weights (biases random too). */
export function randomModel(
  spec: NetworkSpec,
  seed: number,
  metadata: Record<string, unknown> = {},
): ModelContent {
  const resolved = resolveSpec(spec);
  const rng = new Rng(seed, 'export-bias');
  const weights = initWeights(resolved, seed).map((w) =>
    w.name.endsWith('.b') ? { ...w, data: w.data.map(() => rng.uniform(-0.5, 0.5)) } : w,
  );
  return untrainedModelContent(structuredClone(spec), weights, seed, metadata);
}

/** `count` random samples of the spec's input, values in [0, 1]. */
export function randomInput(spec: NetworkSpec, count: number, seed: number): Float32Array {
  const size = resolveSpec(spec).inputSize;
  const rng = new Rng(seed, 'export-input');
  return Float32Array.from({ length: count * size }, () => rng.uniform(0, 1));
}
