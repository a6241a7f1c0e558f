/**
 * NeuralNet options for a tutorial preset: its spec, its schedules as
 * AdjustVariable callbacks, its flip iterator and its early stopping, so the
 * CLI and scripts build net1 ... net7 in one call.
 */
import { AugmentBatchIterator } from '../augment/augment-batch-iterator.js';
import type { MirrorRule } from '../data/scaling.js';
import { ConfigError } from '../errors.js';
import { presetSpec, presetTraining, type PresetName } from '../nn/presets.js';
import { AdjustVariable } from './callbacks/adjust-variable.js';
import { EarlyStopping } from './callbacks/early-stopping.js';
import type { Callback } from './callbacks/types.js';
import { FlipBatchIterator } from './flip-batch-iterator.js';
import type { NeuralNetOptions } from './neural-net.js';

export interface PresetNetOptions extends Omit<Partial<NeuralNetOptions>, 'layers'> {
  /** Targets per sample: 30 for Kaggle-15, 136 for iBUG-68. */
  outputs: number;
  /** Target column pairs swapped by flips (the schema's columnFlipPairs); needed by flipping presets. */
  flipPairs?: [number, number][];
  /**
   * How flipping presets mirror x targets: 'exact' (default, the true mirror
   * 95 - x) or 'tutorial' (x -> 96 - x, the tutorial's own arithmetic, for
   * exact reproduction of net3, net5, net6 and net7).
   */
  mirror?: MirrorRule;
}

/**
 * @example
 * const net = new NeuralNet(presetNetOptions('net5', { outputs: 30, flipPairs: kaggle15.columnFlipPairs, verbose: 1 }));
 * // the tutorial's exact arithmetic, flips included:
 * const tutorial = new NeuralNet(presetNetOptions('net5', { outputs: 30, flipPairs: kaggle15.columnFlipPairs, mirror: 'tutorial' }));
 */
export function presetNetOptions(name: PresetName | string, options: PresetNetOptions): NeuralNetOptions {
  const { outputs, flipPairs, mirror, ...rest } = options;
  const training = presetTraining(name);
  const maxEpochs = rest.maxEpochs ?? training.maxEpochs;
  const callbacks: Callback[] = [];
  const { learningRate: lr, momentum: m } = training;
  if (lr.start !== lr.stop) callbacks.push(new AdjustVariable('updateLearningRate', lr.start, lr.stop));
  const adam = (rest.update ?? training.optimizer) === 'adam';
  if (m.start !== m.stop && !adam) callbacks.push(new AdjustVariable('updateMomentum', m.start, m.stop));
  if (training.earlyStoppingPatience !== undefined) {
    callbacks.push(new EarlyStopping({ patience: training.earlyStoppingPatience }));
  }
  const batchSize = training.batchSize ?? 128;
  let batchIteratorTrain = rest.batchIteratorTrain;
  if (!batchIteratorTrain && training.augment) {
    if (!flipPairs)
      throw new ConfigError(
        `preset ${name} trains with augmentation: pass flipPairs (the schema's columnFlipPairs)`,
      );
    batchIteratorTrain = new AugmentBatchIterator({
      batchSize,
      shuffle: true,
      flipPairs,
      augment: training.augment,
    });
  }
  if (!batchIteratorTrain && training.flip) {
    if (!flipPairs)
      throw new ConfigError(
        `preset ${name} trains with flips: pass flipPairs (the schema's columnFlipPairs)`,
      );
    batchIteratorTrain = new FlipBatchIterator({ batchSize, shuffle: true, flipPairs, mirror });
  }
  return {
    ...rest,
    layers: presetSpec(name, outputs),
    maxEpochs,
    updateLearningRate: rest.updateLearningRate ?? lr.start,
    ...(adam ? {} : { updateMomentum: rest.updateMomentum ?? m.start }),
    ...(training.optimizer && rest.update === undefined ? { update: training.optimizer } : {}),
    ...(training.loss && rest.loss === undefined ? { loss: training.loss } : {}),
    ...(training.weightDecay !== undefined && rest.weightDecay === undefined
      ? { weightDecay: training.weightDecay }
      : {}),
    ...(training.outputBias && rest.outputBias === undefined ? { outputBias: training.outputBias } : {}),
    batchIteratorTrain,
    callbacks: [...callbacks, ...(rest.callbacks ?? [])],
  };
}
