/** The error that stops a training whose loss is no longer a finite number. */
import { FacepointsError } from '../errors.js';

/**
 * Training stopped at the first NaN or infinite loss: the weights had blown
 * up, and every later step would only train on NaN. Names the epoch and
 * batch, and the learning rate to lower. The net is left as it was at the end
 * of the last finished epoch.
 *
 * @example
 * try { await net.fit(X, y); } catch (e) { if (e instanceof TrainingDivergedError) console.log(e.epoch, e.batch); }
 */
export class TrainingDivergedError extends FacepointsError {
  readonly epoch: number;
  /** 1-based batch of the epoch, or undefined when the validation loss was the first non-finite one. */
  readonly batch?: number;
  readonly loss: number;
  readonly learningRate: number;

  constructor(where: { epoch: number; batch?: number; loss: number; learningRate: number }) {
    const what =
      where.batch !== undefined
        ? `the training loss of epoch ${where.epoch}, batch ${where.batch}`
        : `the validation loss of epoch ${where.epoch}`;
    super(
      `training diverged: ${what} is ${where.loss} (learning rate ${where.learningRate}); ` +
        `train again with a lower learning rate (--lr, e.g. ${where.learningRate / 10}). ` +
        `The net is kept as it was after epoch ${where.epoch - 1}.`,
    );
    this.epoch = where.epoch;
    this.batch = where.batch;
    this.loss = where.loss;
    this.learningRate = where.learningRate;
  }
}
