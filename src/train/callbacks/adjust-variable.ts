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

/** Where a schedule was taken up again after its run was given more (or fewer) epochs. */
export interface ScheduleContinuation {
  /** The last epoch trained before the change. */
  epoch: number;
  /** The variable's value after that epoch (what the next epoch trains with). */
  value: number;
}

/**
 * At the end of epoch `e`, sets the net's variable `name` to
 * `float32(linspace(start, stop, maxEpochs)[e - 1])`, exactly as the seed.
 * (So epoch 1 trains with the variable's initial value, epoch e > 1 with
 * `ls[e - 2]`.) Past maxEpochs (extra epochs via `fit(..., { epochs })`)
 * the variable stays at `stop`. Accepts nolearn's snake_case names
 * (`update_learning_rate`) as well as ours (`updateLearningRate`).
 *
 * With `from` (set when a resumed run is given a new maxEpochs), epochs after
 * `from.epoch` follow `linspace(from.value, stop, maxEpochs - from.epoch + 1)`
 * instead: the schedule goes on from where it was to `stop` over the new
 * remaining epochs, with no jump.
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
  readonly from?: ScheduleContinuation;

  constructor(name: string, start = 0.03, stop = 0.001, from?: ScheduleContinuation) {
    if (typeof name !== 'string' || name === '')
      throw new ConfigError('AdjustVariable needs the name of a variable');
    if (!Number.isFinite(start) || !Number.isFinite(stop)) {
      throw new ConfigError(
        `AdjustVariable('${name}'): start and stop must be finite numbers, got ${start}, ${stop}`,
      );
    }
    if (
      from !== undefined &&
      (!Number.isInteger(from.epoch) || from.epoch < 0 || !Number.isFinite(from.value))
    ) {
      throw new ConfigError(
        `AdjustVariable('${name}'): from must be { epoch: whole number >= 0, value: finite number }`,
      );
    }
    this.name = name;
    this.start = start;
    this.stop = stop;
    if (from) this.from = { epoch: from.epoch, value: from.value };
  }

  /** The value this schedule sets at the end of `epoch` for a net of `maxEpochs`. */
  valueAt(epoch: number, maxEpochs: number): number {
    if (this.from && epoch >= this.from.epoch) {
      const ls = linspace(this.from.value, this.stop, Math.max(1, maxEpochs - this.from.epoch + 1));
      return Math.fround(ls[Math.min(epoch - this.from.epoch, ls.length - 1)]);
    }
    const ls = linspace(this.start, this.stop, maxEpochs);
    return Math.fround(ls[Math.min(Math.max(epoch, 1), ls.length) - 1]);
  }

  onEpochFinished(net: NeuralNet, history: EpochRecord[]): void {
    const last = history[history.length - 1];
    if (!last) return;
    net.setVariable(this.name, this.valueAt(last.epoch, net.maxEpochs));
  }

  toConfig(): CallbackConfig {
    return {
      type: 'AdjustVariable',
      name: this.name,
      start: this.start,
      stop: this.stop,
      ...(this.from ? { from: { ...this.from } } : {}),
    };
  }
}
