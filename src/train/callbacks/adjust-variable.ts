/**
 * The tutorial's schedule (`AdjustVariable` of the seed), keyed to the real
 * epoch number so a resumed run continues the schedule where it stopped.
 */
import { ConfigError } from '../../errors.js';
import type { EpochRecord } from '../history.js';
import type { NeuralNet } from '../neural-net.js';
import type { Callback, CallbackConfig } from './types.js';

/**
 * numpy's `linspace(start, stop, num)`: `start + i * step` with the last
 * value exactly `stop`; a single value is `start`.
 *
 * @example
 * linspace(0.03, 0.0001, 3); // [0.03, 0.01505, 0.0001]
 */
export function linspace(start: number, stop: number, num: number): number[] {
  if (!Number.isInteger(num) || num < 1) throw new ConfigError(`linspace needs a positive count, got ${num}`);
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : start + i * step));
}

/**
 * At the end of epoch `e`, sets the net's variable `name` to
 * `float32(linspace(start, stop, maxEpochs)[e - 1])`, exactly as the seed.
 * (So epoch 1 trains with the variable's initial value, epoch e > 1 with
 * `ls[e - 2]`.) Past maxEpochs (extra epochs via `fit(..., { epochs })`)
 * the variable stays at `stop`. Accepts nolearn's snake_case names
 * (`update_learning_rate`) as well as ours (`updateLearningRate`).
 *
 * @example
 * new NeuralNet({
 *   layers: presetSpec('net4', 30),
 *   updateLearningRate: 0.03,
 *   updateMomentum: 0.9,
 *   onEpochFinished: [
 *     new AdjustVariable('updateLearningRate', 0.03, 0.0001),
 *     new AdjustVariable('update_momentum', 0.9, 0.999),
 *   ],
 * });
 */
export class AdjustVariable implements Callback {
  readonly name: string;
  readonly start: number;
  readonly stop: number;

  constructor(name: string, start = 0.03, stop = 0.001) {
    if (typeof name !== 'string' || name === '')
      throw new ConfigError('AdjustVariable needs the name of a variable');
    if (!Number.isFinite(start) || !Number.isFinite(stop)) {
      throw new ConfigError(
        `AdjustVariable('${name}'): start and stop must be finite numbers, got ${start}, ${stop}`,
      );
    }
    this.name = name;
    this.start = start;
    this.stop = stop;
  }

  /** The value this schedule sets at the end of `epoch` for a net of `maxEpochs`. */
  valueAt(epoch: number, maxEpochs: number): number {
    const ls = linspace(this.start, this.stop, maxEpochs);
    return Math.fround(ls[Math.min(Math.max(epoch, 1), ls.length) - 1]);
  }

  onEpochFinished(net: NeuralNet, history: EpochRecord[]): void {
    const last = history[history.length - 1];
    if (!last) return;
    net.setVariable(this.name, this.valueAt(last.epoch, net.maxEpochs));
  }

  toConfig(): CallbackConfig {
    return { type: 'AdjustVariable', name: this.name, start: this.start, stop: this.stop };
  }
}
