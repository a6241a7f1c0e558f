/**
 * Periodic saves of the whole net (weights, optimizer state, variables,
 * history, callback state), so a crashed or stopped run resumes exactly
 * with `NeuralNet.load(path)` and `fit`.
 */
import { ConfigError } from '../../errors.js';
import type { EpochRecord } from '../history.js';
import type { NeuralNet } from '../neural-net.js';
import type { Callback, CallbackConfig } from './types.js';

export interface CheckpointOptions {
  /** File to write; `{epoch}` in it is replaced by the zero-padded epoch (one file per save). */
  path: string;
  /** Save every this many epochs (default 1). */
  every?: number;
}

/**
 * Runs after the other epoch callbacks, so the saved file holds their state
 * for the same epoch (early stopping's best weights, for instance).
 *
 * @example
 * new NeuralNet({ layers, callbacks: [new Checkpoint({ path: 'runs/net4.fpm', every: 10 })] });
 */
export class Checkpoint implements Callback {
  readonly runsLast = true;
  readonly path: string;
  readonly every: number;
  /** Path of the latest save, if any. */
  lastSaved?: string;

  constructor(options: CheckpointOptions) {
    if (!options || typeof options.path !== 'string' || options.path === '') {
      throw new ConfigError('Checkpoint needs a path');
    }
    const every = options.every ?? 1;
    if (!Number.isInteger(every) || every < 1)
      throw new ConfigError(`Checkpoint: every must be a positive integer, got ${every}`);
    this.path = options.path;
    this.every = every;
  }

  /** The file a save at `epoch` goes to. */
  pathFor(epoch: number): string {
    return this.path.replaceAll('{epoch}', String(epoch).padStart(4, '0'));
  }

  async onEpochFinished(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    const record = history[history.length - 1];
    if (!record || record.epoch % this.every !== 0) return;
    const path = this.pathFor(record.epoch);
    await net.save(path);
    this.lastSaved = path;
  }

  toConfig(): CallbackConfig {
    return { type: 'Checkpoint', path: this.path, every: this.every };
  }
}
