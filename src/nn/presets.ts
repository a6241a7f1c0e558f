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
import type { LossSpec } from './loss.js';
import type { OptimizerName } from './optimizer.js';
import type { OutputBias } from '../train/output-bias.js';
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
 * Presets built for accuracy on real faces rather than for the tutorial
 * (docs/accuracy.md has their figures and the experiments that chose them):
 * - `conv8-bn-heatmap`, the one to use: batch-normed 3x3 convolutions down to
 *   a 12x12 map, one heatmap per keypoint and a soft-argmax head;
 * - `conv8-bn-aug`, its predecessor: eight such convolutions down to 6x6 and a
 *   dense head.
 * Both train with Adam, the wing loss and augmentation without mirrors.
 */
export type AccuracyPresetName = 'conv8-bn-heatmap' | 'conv8-bn-aug';
export const ACCURACY_PRESET_NAMES: readonly AccuracyPresetName[] = ['conv8-bn-heatmap', 'conv8-bn-aug'];
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
  /** The update rule (default Nesterov momentum; for Adam, `momentum` is ignored and Adam's betas keep their defaults). */
  optimizer?: OptimizerName;
  /** The training loss (default the masked MSE). */
  loss?: LossSpec;
  /** L2 weight decay (default 0). */
  weightDecay?: number;
  /** Samples per batch (default 128). */
  batchSize?: number;
  /** How the output bias starts (default 'zeros'; 'meanTargets': the mean shape). */
  outputBias?: OutputBias;
}

const ACCURACY_TRAINING: PresetTraining = {
  maxEpochs: 150,
  learningRate: { start: 0.001, stop: 0.00001 },
  momentum: { start: 0.9, stop: 0.9 },
  flip: false,
  augment: { mirror: false },
  optimizer: 'adam',
  loss: { kind: 'wing' },
  batchSize: 64,
};

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
   * Adam from its usual 0.001 down to 0.00001 linearly over the run, the wing
   * loss with the paper's 10 px / 2 px, augmentation without mirrors (this
   * data's labels are not mirror-symmetric) and batches of 64, for twice the
   * updates an epoch of 128 gives. Epochs sized for under an hour on 2 cores
   * (docs/accuracy.md); no early stopping: the decaying rate ends the run.
   */
  'conv8-bn-heatmap': ACCURACY_TRAINING,
  // The dense head starts at the mean shape (zero weights, outputBias 'meanTargets').
  'conv8-bn-aug': { ...ACCURACY_TRAINING, outputBias: 'meanTargets' },
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
 * 3x3 'same' convolutions, each followed by batch norm and ReLU, with
 * stride 2 instead of pools (learned downsampling). The first convolution
 * downsamples at once, as ResNet's stem does: a stage at 96x96 of its own
 * doubled the step's time on this 2-core machine, halving the epochs an hour
 * of training gives.
 */
function bnConvStack(
  stack: readonly (readonly [filters: number, stride: 1 | 2, kernelSize?: number])[],
): LayerSpec[] {
  const layers: LayerSpec[] = [{ kind: 'input', shape: [1, IMAGE_SIZE, IMAGE_SIZE], name: 'input' }];
  stack.forEach(([filters, stride, kernelSize = 3], i) => {
    layers.push({
      kind: 'conv2d',
      filters,
      kernelSize,
      padding: 'same',
      stride,
      activation: 'linear',
      name: `conv${i + 1}`,
    });
    layers.push({ kind: 'batchnorm', activation: 'relu', name: `bn${i + 1}` });
  });
  return layers;
}

/** The first six stages both accuracy presets share: 96 -> 48 -> 24 -> 12 with 24/32, 64 and 128 channels. */
const DOWN_TO_12 = [
  [24, 2],
  [32, 1],
  [64, 2],
  [64, 1],
  [128, 2],
  [128, 1],
] as const;

/**
 * conv8-bn-aug's layers: eight convolutions, 96 -> 48 -> 24 -> 12 -> 6 with
 * 24/32, 64, 128 and 256 channels, then a 256-unit dense layer on the
 * flattened 256 x 6 x 6 map (not a global average pool: where a feature is,
 * is what the output needs) and the output. About 0.23 GFLOP per image forward.
 */
function conv8Bn(outputs: number): LayerSpec[] {
  const layers = bnConvStack([...DOWN_TO_12, [256, 2], [256, 1]]);
  layers.push({ kind: 'dense', units: 256, name: 'hidden' });
  layers.push({ kind: 'dropout', rate: 0.1, name: 'dropout' });
  // Zero weights and (outputBias 'meanTargets') the mean shape as bias: the
  // untrained net predicts the mean shape. With Glorot weights here its first
  // outputs are tens of pixels of noise, and the updates that cancel them
  // silence the relu units of `hidden`: runs then sat for 20 to 60 epochs at
  // the mean shape (docs/accuracy.md).
  layers.push({ kind: 'dense', units: outputs, activation: 'linear', init: 'zeros', name: 'output' });
  return layers;
}

/**
 * conv8-bn-heatmap's layers: eight convolutions, 96 -> 48 -> 24 -> 12 with
 * 24/32, 64 and 128 channels; the last two are 5x5 and stay at 12x12 (no
 * 6x6 stage: their receptive field, 107 pixels, covers the face, which the
 * jaw's points need; with 3x3 ones, 75 pixels, the jaw's error was 10 %
 * higher), then one 1x1 linear convolution per keypoint (its 12x12 heatmap
 * of logits) and the soft-argmax
 * (`layers/soft-argmax.ts`): each point is its heatmap's expected cell
 * centre. No dense layer: the head has 129 weights per keypoint instead of a
 * dense head's 2.4 million in all, and what it learns about a point holds at
 * every position. About 0.40 GFLOP per image forward (1.1 million weights,
 * against conv8-bn-aug's 0.23 GFLOP and 3.6 million).
 */
function conv8BnHeatmap(outputs: number): LayerSpec[] {
  if (outputs % 2 !== 0) {
    throw new ConfigError(
      `conv8-bn-heatmap predicts x, y pairs (one heatmap per keypoint), so it needs an even number of outputs, got ${outputs}`,
    );
  }
  const layers = bnConvStack([...DOWN_TO_12, [128, 1, 5], [128, 1, 5]]);
  layers.push({
    kind: 'conv2d',
    filters: outputs / 2,
    kernelSize: 1,
    activation: 'linear',
    name: 'heatmaps',
  });
  layers.push({ kind: 'softargmax', name: 'output' });
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
    case 'conv8-bn-aug':
      return { layers: conv8Bn(outputs) };
    case 'conv8-bn-heatmap':
      return { layers: conv8BnHeatmap(outputs) };
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
