/**
 * Early stopping with best-weight restore, as the tutorial's EarlyStopping
 * handler (stop once `patience` epochs pass without a new best valid loss),
 * plus what it lacked: the best weights are restored however training ends
 * (patience, maxEpochs, Ctrl-C), and the state survives save and resume.
 */
import type { NamedTensor } from '../../engine/engine.js';
import { ConfigError } from '../../errors.js';
import type { EpochRecord } from '../history.js';
import type { NeuralNet } from '../neural-net.js';
import type { Callback, CallbackConfig } from './types.js';

export interface EarlyStoppingOptions {
  /** Epochs without improvement to wait before stopping (the tutorial uses 200). */
  patience: number;
  /** Loss to watch (default 'validLoss'; falls back to 'trainLoss' when the net has no validation). */
  monitor?: 'validLoss' | 'trainLoss';
  /** Put the best epoch's weights back when training ends (default true). */
  restoreBestWeights?: boolean;
  /** Say when stopping and restoring, on the net's `output` (default: the net's verbose). */
  verbose?: boolean;
}

interface EarlyStoppingState {
  bestLoss: number;
  bestEpoch: number;
  bestWeights: NamedTensor[] | null;
  /** Weights the run stopped at, set aside when the best were restored, so a resumed fit continues from them. */
  resumeWeights: { epoch: number; weights: NamedTensor[] } | null;
}

/**
 * @example
 * new NeuralNet({ layers, maxEpochs: 10000, onEpochFinished: [new EarlyStopping({ patience: 200 })] });
 */
export class EarlyStopping implements Callback {
  readonly stateKey = 'EarlyStopping';
  readonly patience: number;
  readonly monitor: 'validLoss' | 'trainLoss';
  readonly restoreBestWeights: boolean;
  private readonly verbose?: boolean;
  private state: EarlyStoppingState = EarlyStopping.freshState();

  constructor(options: EarlyStoppingOptions) {
    const patience = options?.patience;
    if (!Number.isInteger(patience) || patience < 0) {
      throw new ConfigError(`EarlyStopping: patience must be a non-negative integer, got ${patience}`);
    }
    this.patience = patience;
    this.monitor = options.monitor ?? 'validLoss';
    this.restoreBestWeights = options.restoreBestWeights ?? true;
    this.verbose = options.verbose;
  }

  private static freshState(): EarlyStoppingState {
    return { bestLoss: Infinity, bestEpoch: 0, bestWeights: null, resumeWeights: null };
  }

  /** Epoch and loss of the best epoch seen so far (epoch 0 before any). */
  get best(): { epoch: number; loss: number } {
    return { epoch: this.state.bestEpoch, loss: this.state.bestLoss };
  }

  async onTrainingStarted(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    const last = history[history.length - 1];
    if (!last) {
      this.state = EarlyStopping.freshState();
      return;
    }
    const resume = this.state.resumeWeights;
    if (resume && resume.epoch === last.epoch) await net.setWeights(resume.weights);
    this.state.resumeWeights = null;
  }

  async onEpochFinished(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    const record = history[history.length - 1];
    if (!record) return;
    const loss =
      this.monitor === 'validLoss' && !Number.isNaN(record.validLoss) ? record.validLoss : record.trainLoss;
    if (loss < this.state.bestLoss) {
      this.state.bestLoss = loss;
      this.state.bestEpoch = record.epoch;
      this.state.bestWeights = await net.getWeights();
    } else if (record.epoch > this.state.bestEpoch + this.patience) {
      if (this.verbose ?? net.verbose > 0) {
        net.output.write(
          `Early stopping: best ${this.monitor} ${this.state.bestLoss.toFixed(6)} at epoch ${this.state.bestEpoch}.\n`,
        );
      }
      net.requestStop('earlyStopping');
    }
  }

  async onTrainingFinished(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    const last = history[history.length - 1];
    const { bestWeights, bestEpoch } = this.state;
    if (!this.restoreBestWeights || !bestWeights || !last || bestEpoch === last.epoch) return;
    this.state.resumeWeights = { epoch: last.epoch, weights: await net.getWeights() };
    await net.setWeights(bestWeights);
    if (this.verbose ?? net.verbose > 0) net.output.write(`Restored the weights of epoch ${bestEpoch}.\n`);
  }

  getState(): EarlyStoppingState {
    return this.state;
  }

  setState(state: unknown): void {
    const s = state as EarlyStoppingState;
    if (!s || typeof s.bestEpoch !== 'number' || typeof s.bestLoss !== 'number') {
      throw new ConfigError('EarlyStopping: saved state is malformed');
    }
    this.state = {
      bestLoss: s.bestLoss,
      bestEpoch: s.bestEpoch,
      bestWeights: s.bestWeights ?? null,
      resumeWeights: s.resumeWeights ?? null,
    };
  }

  toConfig(): CallbackConfig {
    return {
      type: 'EarlyStopping',
      patience: this.patience,
      monitor: this.monitor,
      restoreBestWeights: this.restoreBestWeights,
    };
  }
}
