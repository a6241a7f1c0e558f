/**
 * Small networks that put each layer kind (and each path through it: relu
 * or linear, several kernel sizes, pools that drop partial windows, channel
 * counts that are not multiples of oneDNN's 16-lane blocks) under test.
 */
import type { NetworkSpec } from '../../../src/nn/spec.js';

export interface LayerCase {
  name: string;
  spec: NetworkSpec;
}

export const LAYER_CASES: LayerCase[] = [
  {
    name: 'conv 1x1 relu',
    spec: {
      layers: [
        { kind: 'input', shape: [3, 6, 7] },
        { kind: 'conv2d', filters: 5, kernelSize: 1 },
        { kind: 'dense', units: 4, activation: 'linear' },
      ],
    },
  },
  {
    name: 'conv 2x2 relu into conv 3x3 linear (17 filters)',
    spec: {
      layers: [
        { kind: 'input', shape: [2, 9, 8] },
        { kind: 'conv2d', filters: 6, kernelSize: 2 },
        { kind: 'conv2d', filters: 17, kernelSize: 3, activation: 'linear' },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'conv 5x5 relu',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 12, 11] },
        { kind: 'conv2d', filters: 4, kernelSize: 5 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'conv 2x3 (rectangular) relu',
    spec: {
      layers: [
        { kind: 'input', shape: [2, 8, 9] },
        { kind: 'conv2d', filters: 5, kernelSize: [2, 3] },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'relu conv + maxpool twice, odd sizes',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 11, 10] },
        { kind: 'conv2d', filters: 8, kernelSize: 3 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'conv2d', filters: 4, kernelSize: 2 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    // conv (relu, filters a multiple of 16) + maxpool first: the engine's own fused kernel.
    name: 'fused first conv 3x3 (32 filters) + maxpool, odd sizes',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 15, 14] },
        { kind: 'conv2d', filters: 32, kernelSize: 3 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'conv2d', filters: 16, kernelSize: 2 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'fused first conv 2x3 on 2 channels (16 filters) + maxpool',
    spec: {
      layers: [
        { kind: 'input', shape: [2, 11, 12] },
        { kind: 'conv2d', filters: 16, kernelSize: [2, 3] },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'fused first conv 3x3 (16 filters) + maxpool 3',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 14, 13] },
        { kind: 'conv2d', filters: 16, kernelSize: 3 },
        { kind: 'maxpool2d', poolSize: 3 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'fused first conv 2x2 (48 filters) + maxpool',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 9, 10] },
        { kind: 'conv2d', filters: 48, kernelSize: 2 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'linear conv + maxpool 3',
    spec: {
      layers: [
        { kind: 'input', shape: [2, 9, 9] },
        { kind: 'conv2d', filters: 3, kernelSize: 2, activation: 'linear' },
        { kind: 'maxpool2d', poolSize: 3 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'maxpool on the input',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 8, 8] },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'dense stack on flat input',
    spec: {
      layers: [
        { kind: 'input', shape: [20] },
        { kind: 'dense', units: 16 },
        { kind: 'dense', units: 9 },
        { kind: 'dense', units: 4, activation: 'linear' },
      ],
    },
  },
  {
    name: 'dense on a 3-D input (flattened C, H, W)',
    spec: {
      layers: [
        { kind: 'input', shape: [3, 4, 5] },
        { kind: 'dense', units: 6 },
        { kind: 'dense', units: 2, activation: 'linear' },
      ],
    },
  },
  {
    name: 'dropout after pool and after dense (identity without training)',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 10, 10] },
        { kind: 'conv2d', filters: 4, kernelSize: 3 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'dropout', rate: 0.2 },
        { kind: 'dense', units: 10 },
        { kind: 'dropout', rate: 0.5 },
        { kind: 'dense', units: 3, activation: 'linear' },
      ],
    },
  },
  {
    name: 'net2 in miniature',
    spec: {
      layers: [
        { kind: 'input', shape: [1, 20, 20] },
        { kind: 'conv2d', filters: 8, kernelSize: 3 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'conv2d', filters: 16, kernelSize: 2 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'conv2d', filters: 32, kernelSize: 2 },
        { kind: 'maxpool2d', poolSize: 2 },
        { kind: 'dense', units: 20 },
        { kind: 'dense', units: 20 },
        { kind: 'dense', units: 30, activation: 'linear' },
      ],
    },
  },
];

export const BATCH_SIZES = [1, 7, 128];
