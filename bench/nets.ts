/**
 * The nets the training benchmark times: the tutorial's net2 and `bnnet`, a
 * net of today's building blocks (3x3 'same' convolutions + batch norm + relu
 * blocks, stride-2 convolutions to downsample, global average pooling, a
 * dense output), about 0.4 GFLOP per 96x96 image forward. Each has a C++
 * libtorch peer in bench/peers/ building the same net.
 */
import { presetSpec } from '../src/nn/presets.js';
import { resolveSpec, sizeOf, type LayerSpec, type NetworkSpec } from '../src/nn/spec.js';

export type BenchNet = 'net2' | 'bnnet';
export const BENCH_NETS: readonly BenchNet[] = ['net2', 'bnnet'];

/** conv 3x3 'same' (linear) + batch norm + relu. */
function block(filters: number, stride: 1 | 2): LayerSpec[] {
  return [
    { kind: 'conv2d', filters, kernelSize: 3, padding: 'same', stride, activation: 'linear' },
    { kind: 'batchnorm', activation: 'relu' },
  ];
}

/** 96 -> 48 -> 24 -> 12: two blocks per resolution, the second of each pair downsampling. */
export function bnnetSpec(outputs: number): NetworkSpec {
  return {
    layers: [
      { kind: 'input', shape: [1, 96, 96] },
      ...block(32, 1),
      ...block(32, 2),
      ...block(64, 1),
      ...block(64, 2),
      ...block(128, 1),
      ...block(128, 2),
      ...block(256, 1),
      { kind: 'globalavgpool' },
      { kind: 'dense', units: outputs, activation: 'linear', name: 'output' },
    ],
  };
}

export function benchSpec(net: BenchNet, outputs: number): NetworkSpec {
  return net === 'net2' ? presetSpec('net2', outputs) : bnnetSpec(outputs);
}

/** Multiply-adds x 2 of convolutions and dense layers per image, forward. */
export function forwardFlops(spec: NetworkSpec): number {
  let flops = 0;
  for (const layer of resolveSpec(spec).layers) {
    if (layer.kind === 'conv2d') {
      const [, kh, kw] = [0, ...layer.kernelSize];
      flops += 2 * sizeOf(layer.outputShape) * layer.inputShape[0] * kh * kw;
    } else if (layer.kind === 'dense') {
      flops += 2 * sizeOf(layer.inputShape) * layer.units;
    }
  }
  return flops;
}
