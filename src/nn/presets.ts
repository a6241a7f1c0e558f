/**
 * The nets of the tutorial, net1 ... net7, as specs for 96x96 inputs and any
 * number of outputs (30 for Kaggle-15, 136 for iBUG-68), with their training
 * schedules. Layer names follow the tutorial (conv1, pool1, dropout1, ...,
 * hidden4, dropout4, hidden5, output) so `loadParamsFrom` matches
 * layers between presets and specialists.
 */
import type { AugmentSettings } from '../augment/augment-batch-iterator.js';
import { ConfigError } from '../errors.js';
import { IMAGE_SIZE } from '../data/scaling.js';
import type { LayerSpec, NetworkSpec } from './spec.js';

/** The tutorial's nets. */
export type TutorialPresetName = 'net1' | 'net2' | 'net3' | 'net4' | 'net5' | 'net6' | 'net7';
export const TUTORIAL_PRESET_NAMES: readonly TutorialPresetName[] = [
  'net1',
  'net2',
  'net3',
  'net4',
  'net5',
  'net6',
  'net7',
];
/**
 * Presets built for accuracy on real faces rather than for the tutorial:
 * `conv6-aug`, six 3x3 convolutions trained with augmentation (see
 * docs/accuracy.md for its recipe and what is pending).
 */
export type AccuracyPresetName = 'conv6-aug';
export const ACCURACY_PRESET_NAMES: readonly AccuracyPresetName[] = ['conv6-aug'];
export type PresetName = TutorialPresetName | AccuracyPresetName;
export const PRESET_NAMES: readonly PresetName[] = [...TUTORIAL_PRESET_NAMES, ...ACCURACY_PRESET_NAMES];

/** How a preset trains. Schedules are linear over maxEpochs (AdjustVariable); start === stop means constant. */
export interface PresetTraining {
  maxEpochs: number;
  learningRate: { start: number; stop: number };
  momentum: { start: number; stop: number };
  /** Train with FlipBatchIterator. */
  flip: boolean;
  /** Stop after this many epochs without a better valid loss, restoring the best weights. */
  earlyStoppingPatience?: number;
  /**
   * Train with AugmentBatchIterator and these settings over DEFAULT_AUGMENT
   * (`{}`: the defaults); replaces `flip`. Absent: no augmentation.
   */
  augment?: Partial<AugmentSettings>;
}

const CONSTANT = { learningRate: { start: 0.01, stop: 0.01 }, momentum: { start: 0.9, stop: 0.9 } };
const SCHEDULED = { learningRate: { start: 0.03, stop: 0.0001 }, momentum: { start: 0.9, stop: 0.999 } };

/*
 * Epochs: net1 400, net2 1000, net3 3000 (DESIGN.md). net4 1000 and net5 2000
 * as in the seed's tables (net4's valid loss 0.001387 at epoch 1000, net5's
 * 0.001184 at 2000); net6 3000; net7 is the tutorial's final recipe (kfkd.py):
 * flips, both schedules, up to 3000 epochs with early stopping (patience 200).
 */
const TRAINING: Record<PresetName, PresetTraining> = {
  net1: { maxEpochs: 400, ...CONSTANT, flip: false },
  net2: { maxEpochs: 1000, ...CONSTANT, flip: false },
  net3: { maxEpochs: 3000, ...CONSTANT, flip: true },
  net4: { maxEpochs: 1000, ...SCHEDULED, flip: false },
  net5: { maxEpochs: 2000, ...SCHEDULED, flip: true },
  net6: { maxEpochs: 3000, ...SCHEDULED, flip: true },
  net7: { maxEpochs: 3000, ...SCHEDULED, flip: true, earlyStoppingPatience: 200 },
  /*
   * Built for accuracy with today's layers and optimiser (Nesterov momentum,
   * MSE): a gentler start than net4's 0.03 for the deeper stack, full
   * augmentation (mirrors included, so flip averaging is on when predicting)
   * and early stopping. Epochs sized for about an hour on 2 cores (docs/accuracy.md).
   */
  'conv6-aug': {
    maxEpochs: 300,
    learningRate: { start: 0.01, stop: 0.0001 },
    momentum: { start: 0.9, stop: 0.999 },
    flip: true,
    earlyStoppingPatience: 50,
    augment: {},
  },
};

function checkName(name: string): PresetName {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown preset '${name}': expected one of ${PRESET_NAMES.join(', ')}`);
  }
  return name as PresetName;
}

function convNet(outputs: number, options: { dropout: boolean; hiddenUnits: number }): LayerSpec[] {
  const layers: LayerSpec[] = [{ kind: 'input', shape: [1, IMAGE_SIZE, IMAGE_SIZE], name: 'input' }];
  const convs: [number, number, number][] = [
    [32, 3, 0.1],
    [64, 2, 0.2],
    [128, 2, 0.3],
  ];
  convs.forEach(([filters, kernelSize, rate], i) => {
    layers.push({ kind: 'conv2d', filters, kernelSize, name: `conv${i + 1}` });
    layers.push({ kind: 'maxpool2d', poolSize: 2, name: `pool${i + 1}` });
    if (options.dropout) layers.push({ kind: 'dropout', rate, name: `dropout${i + 1}` });
  });
  // The tutorial's net6 and net7 drop out after hidden4 only: hidden5 feeds the output directly.
  layers.push({ kind: 'dense', units: options.hiddenUnits, name: 'hidden4' });
  if (options.dropout) layers.push({ kind: 'dropout', rate: 0.5, name: 'dropout4' });
  layers.push({ kind: 'dense', units: options.hiddenUnits, name: 'hidden5' });
  layers.push({ kind: 'dense', units: outputs, activation: 'linear', name: 'output' });
  return layers;
}

/**
 * conv6-aug's stack, for 96x96 input with today's layers (valid 3x3
 * convolutions, max-pooling, ReLU, dropout): 96 -conv-> 94 -pool-> 47 -conv->
 * 45 -pool-> 22 -conv-> 20 -conv-> 18 -pool-> 9 -conv-> 7 -conv-> 5, then a
 * 512-unit dense layer and the output; about 2.2 times net2's work per image.
 * When the layers issue lands (padding, stride, batch norm, leaky ReLU, global
 * average pooling), its planned form is: 'same'-padded 3x3 convs with batch norm
 * and leaky ReLU, stride-2 convs instead of the pools, and a global average
 * pool before the dense head; the layer names stay, so the recipe carries over.
 */
function conv6Aug(outputs: number): LayerSpec[] {
  const layers: LayerSpec[] = [{ kind: 'input', shape: [1, IMAGE_SIZE, IMAGE_SIZE], name: 'input' }];
  const stack: [number, boolean][] = [
    [32, true],
    [64, true],
    [64, false],
    [128, true],
    [128, false],
    [256, false],
  ];
  let pools = 0;
  stack.forEach(([filters, pool], i) => {
    layers.push({ kind: 'conv2d', filters, kernelSize: 3, name: `conv${i + 1}` });
    if (pool) layers.push({ kind: 'maxpool2d', poolSize: 2, name: `pool${++pools}` });
  });
  layers.push({ kind: 'dense', units: 512, name: 'hidden' });
  layers.push({ kind: 'dropout', rate: 0.3, name: 'dropout' });
  layers.push({ kind: 'dense', units: outputs, activation: 'linear', name: 'output' });
  return layers;
}

/**
 * The layer stack of a preset. net1 takes flat [9216] input, the others [1, 96, 96].
 *
 * @example
 * const spec = presetSpec('net6', kaggle15.columns.length); // 30 outputs
 */
export function presetSpec(name: PresetName | string, outputs: number): NetworkSpec {
  const preset = checkName(name);
  if (!Number.isInteger(outputs) || outputs < 1) {
    throw new ConfigError(`outputs must be a positive integer, got ${outputs}`);
  }
  switch (preset) {
    case 'net1':
      return {
        layers: [
          { kind: 'input', shape: [IMAGE_SIZE * IMAGE_SIZE], name: 'input' },
          { kind: 'dense', units: 100, name: 'hidden' },
          { kind: 'dense', units: outputs, activation: 'linear', name: 'output' },
        ],
      };
    case 'net2':
    case 'net3':
    case 'net4':
    case 'net5':
      return { layers: convNet(outputs, { dropout: false, hiddenUnits: 500 }) };
    case 'net6':
      return { layers: convNet(outputs, { dropout: true, hiddenUnits: 500 }) };
    case 'net7':
      return { layers: convNet(outputs, { dropout: true, hiddenUnits: 1000 }) };
    case 'conv6-aug':
      return { layers: conv6Aug(outputs) };
  }
}

/**
 * How a preset trains (epochs, schedules, flips, early stopping).
 *
 * @example
 * presetTraining('net4'); // { maxEpochs: 1000, learningRate: { start: 0.03, stop: 0.0001 }, ... }
 */
export function presetTraining(name: PresetName | string): PresetTraining {
  const t = TRAINING[checkName(name)];
  return {
    ...t,
    learningRate: { ...t.learningRate },
    momentum: { ...t.momentum },
    ...(t.augment ? { augment: { ...t.augment } } : {}),
  };
}
