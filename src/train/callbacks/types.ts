/**
 * The callback protocol. The training loop only iterates, calls the engine
 * and notifies: printing, schedules, early stopping and checkpoints are all
 * callbacks (skorch's design with nolearn's hook names and arguments).
 *
 * A callback is either a plain function `(net, history) => void`, called for
 * the hook whose list it is in (nolearn's handlers), or an object with any of
 * the hook methods below, each of which is called wherever the object is listed.
 */
import type { NeuralNet } from '../neural-net.js';
import type { EpochRecord } from '../history.js';

/** What a batch-finished hook learns about the batch. */
export interface BatchInfo {
  epoch: number;
  /** 0-based index of the batch within the epoch. */
  batchIndex: number;
  /** Masked MSE of the batch before its update. */
  loss: number;
  /** Rows in the batch. */
  size: number;
}

/** Why a fit ended. */
export type StopReason = 'maxEpochs' | 'requested' | 'earlyStopping' | 'interrupted';

/** A nolearn-style handler. */
export type Handler = (net: NeuralNet, history: EpochRecord[]) => void | Promise<void>;

/** The JSON form of a built-in callback, kept in model files so a loaded net can resume. */
export type CallbackConfig =
  | {
      type: 'AdjustVariable';
      name: string;
      start: number;
      stop: number;
      from?: { epoch: number; value: number };
    }
  | {
      type: 'EarlyStopping';
      patience: number;
      monitor: 'validLoss' | 'trainLoss';
      restoreBestWeights: boolean;
    }
  | { type: 'Checkpoint'; path: string; every: number }
  | { type: 'PrintLog' };

/**
 * A callback object. Every hook is optional.
 *
 * @example
 * const logBatches: Callback = {
 *   onBatchFinished: (net, history, batch) => console.log(batch.epoch, batch.batchIndex, batch.loss),
 * };
 */
export interface Callback {
  onTrainingStarted?(net: NeuralNet, history: EpochRecord[]): void | Promise<void>;
  onBatchFinished?(net: NeuralNet, history: EpochRecord[], batch: BatchInfo): void | Promise<void>;
  onEpochFinished?(net: NeuralNet, history: EpochRecord[]): void | Promise<void>;
  /** Called however training ends (maxEpochs, requestStop, early stopping, Ctrl-C), except on errors. */
  onTrainingFinished?(net: NeuralNet, history: EpochRecord[]): void | Promise<void>;
  /** Run after the other callbacks of the same hook (checkpoints, so they see everyone's state). */
  readonly runsLast?: boolean;
  /** Key under which `getState()` is saved in model files; needed for state to survive resume. */
  readonly stateKey?: string;
  getState?(): unknown;
  setState?(state: unknown): void;
  /** JSON form for model files; built-in callbacks have one, functions cannot. */
  toConfig?(): CallbackConfig | undefined;
}

/** Anything accepted in a hook list. */
export type CallbackLike = Handler | Callback;
