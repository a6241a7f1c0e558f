/**
 * Batch iterators cut rows into mini-batches, as nolearn's `BatchIterator`:
 * an optional seeded shuffle per epoch, then a `transform(Xb, yb)` hook that
 * subclasses (FlipBatchIterator) override to augment each batch.
 *
 * Every random choice is drawn from (seed, epoch, batch index), never from a
 * stream carried along, so a run resumed at epoch 7 sees the same batches as
 * one that ran straight through.
 */
import type { AugmentBatchIteratorConfig } from '../augment/augment-batch-iterator.js';
import type { MirrorRule } from '../data/scaling.js';
import { ConfigError } from '../errors.js';
import { Rng } from '../random/rng.js';

/** What the trainer tells an iterator about the pass it is cutting batches for. */
export interface BatchContext {
  /** 1-based epoch while training; 0 when predicting or scoring. */
  epoch: number;
  /** Per-sample input shape of the net, e.g. [1, 96, 96] or [9216]. */
  inputShape: readonly number[];
  /** Number of targets per sample. */
  outputSize: number;
  /** The net's seed, used by iterators constructed without one. */
  seed: number;
  /**
   * The caller is done with each batch before it asks for the batch after
   * the next (the trainer cuts one batch ahead while the engine trains), so
   * the iterator may fill two alternating pairs of arrays for every full batch
   * instead of allocating new ones: a long run then makes no garbage of batch
   * size per step. Default false.
   */
  reuseBuffers?: boolean;
}

/** What `transform` is told about the batch at hand. */
export interface TransformContext extends BatchContext {
  /** 0-based index of the batch within the epoch. */
  batchIndex: number;
  /** The seed the iterator draws from (its own, or the net's). */
  effectiveSeed: number;
  /** Row numbers (into the full X) of the batch's samples, in batch order. */
  rows?: Int32Array;
}

/** One mini-batch: copies of the rows, so transforms may change them freely. */
export interface Batch {
  /** 0-based index of the batch within the pass. */
  index: number;
  /** Row numbers (into the full X) of the samples, in batch order. */
  rows: Int32Array;
  x: Float32Array;
  /** Absent when iterating inputs only (prediction). */
  y?: Float32Array;
}

/** A transform given as an option instead of by subclassing. */
export type BatchTransform = (
  xb: Float32Array,
  yb: Float32Array | undefined,
  context: TransformContext,
) => { x: Float32Array; y?: Float32Array };

export interface BatchIteratorOptions {
  /** Rows per batch (default 128, as in the tutorial); the last batch may be smaller. */
  batchSize?: number;
  /** Shuffle the rows at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Seed of the shuffle and of transforms; default: the net's seed. */
  seed?: number;
  /** A per-batch transform, for callers who prefer a function to a subclass. */
  transform?: BatchTransform;
}

/** The JSON form of a built-in iterator, kept in model files so a loaded net can resume. */
export type BatchIteratorConfig =
  | { type: 'BatchIterator'; batchSize: number; shuffle: boolean; seed?: number }
  | {
      type: 'FlipBatchIterator';
      batchSize: number;
      shuffle: boolean;
      seed?: number;
      flipPairs: [number, number][];
      imageShape?: number[];
      /** Absent in files written before the rule was recorded: those flipped the tutorial's way. */
      mirror?: MirrorRule;
    }
  | AugmentBatchIteratorConfig;

/**
 * @example
 * const iterator = new BatchIterator({ batchSize: 128, shuffle: true, seed: 1 });
 * for (const batch of iterator.batches(X, y, undefined, { epoch: 1, inputShape: [9216], outputSize: 30, seed: 1 })) {
 *   await network.trainStep(batch.x, batch.y!, hyperparams);
 * }
 */
export class BatchIterator {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed?: number;
  protected readonly transformOption?: BatchTransform;

  constructor(options: BatchIteratorOptions = {}) {
    const batchSize = options.batchSize ?? 128;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    if (options.seed !== undefined && !Number.isFinite(options.seed)) {
      throw new ConfigError(`seed must be a finite number, got ${options.seed}`);
    }
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.seed = options.seed;
    this.transformOption = options.transform;
  }

  /**
   * Yields the batches of one pass over `rows` (default: all rows of X).
   * Each batch holds copies, already transformed.
   */
  *batches(
    X: Float32Array,
    y: Float32Array | undefined,
    rows: Int32Array | undefined,
    context: BatchContext,
  ): Generator<Batch> {
    const inputSize = context.inputShape.reduce((a, b) => a * b, 1);
    const count = rows ? rows.length : Math.floor(X.length / inputSize);
    const effectiveSeed = this.seed ?? context.seed;
    let order = rows ?? Int32Array.from({ length: count }, (_, i) => i);
    if (this.shuffle) {
      const permutation = new Rng(effectiveSeed, 'shuffle', context.epoch).permutation(count);
      order = permutation.map((i) => order[i]);
    }
    const outputSize = context.outputSize;
    const xFull: Float32Array[] = [];
    const yFull: (Float32Array | undefined)[] = [];
    for (let start = 0, index = 0; start < count; start += this.batchSize, index++) {
      const batchRows = order.slice(start, Math.min(start + this.batchSize, count));
      const reuse = context.reuseBuffers === true && batchRows.length === this.batchSize;
      const pair = index % 2;
      if (reuse && !xFull[pair]) {
        xFull[pair] = new Float32Array(this.batchSize * inputSize);
        yFull[pair] = y ? new Float32Array(this.batchSize * outputSize) : undefined;
      }
      const xb = reuse ? xFull[pair] : new Float32Array(batchRows.length * inputSize);
      const yb = y ? (reuse ? yFull[pair]! : new Float32Array(batchRows.length * outputSize)) : undefined;
      batchRows.forEach((row, i) => {
        xb.set(X.subarray(row * inputSize, (row + 1) * inputSize), i * inputSize);
        if (yb && y) yb.set(y.subarray(row * outputSize, (row + 1) * outputSize), i * outputSize);
      });
      const transformed = this.transform(xb, yb, {
        ...context,
        batchIndex: index,
        effectiveSeed,
        rows: batchRows,
      });
      yield { index, rows: batchRows, x: transformed.x, y: transformed.y };
    }
  }

  /**
   * The augmentation hook (nolearn's `transform(Xb, yb)`): identity here.
   * Override it, or pass `transform` as an option. It receives fresh copies
   * and may change them in place.
   */
  transform(
    xb: Float32Array,
    yb: Float32Array | undefined,
    context: TransformContext,
  ): { x: Float32Array; y?: Float32Array } {
    return this.transformOption ? this.transformOption(xb, yb, context) : { x: xb, y: yb };
  }

  /**
   * The JSON form kept in model files; undefined when the iterator holds a
   * function (a `transform` option or a user subclass), which a file cannot carry.
   */
  toConfig(): BatchIteratorConfig | undefined {
    if (this.transformOption || Object.getPrototypeOf(this) !== BatchIterator.prototype) return undefined;
    return { type: 'BatchIterator', batchSize: this.batchSize, shuffle: this.shuffle, seed: this.seed };
  }
}
