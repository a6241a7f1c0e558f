/**
 * The tutorial's flip augmentation: a random half of every training batch is
 * mirrored left-right. Mirroring an image moves each keypoint x to its mirror
 * (95 - x by default, the true mirror; the tutorial negated the scaled x,
 * 96 - x: `mirror: 'tutorial'`) and turns every "left" keypoint into a
 * "right" one, so the columns of each left/right pair are swapped.
 */
import { MIRROR_RULES, type MirrorRule, mirrorTarget } from '../data/scaling.js';
import { ConfigError } from '../errors.js';
import { Rng } from '../random/rng.js';
import {
  BatchIterator,
  type BatchIteratorConfig,
  type BatchIteratorOptions,
  type TransformContext,
} from './batch-iterator.js';

export interface FlipBatchIteratorOptions extends BatchIteratorOptions {
  /**
   * Target COLUMN index pairs to swap when a sample is flipped, e.g. for
   * Kaggle-15 (0,2) (1,3) ... : left_eye_center_x with right_eye_center_x,
   * left_eye_center_y with right_eye_center_y. Both columns of a pair must be
   * x columns (even) or both y columns (odd).
   */
  flipPairs: [number, number][];
  /**
   * [channels, height, width] of a sample when the net's own input shape does
   * not say it (a dense net on flat input); default: the net's input shape.
   */
  imageShape?: number[];
  /**
   * How x targets move: 'exact' (default, the true mirror 95 - x) or
   * 'tutorial' (the scaled x negated, 96 - x), for exact reproduction of the tutorial.
   */
  mirror?: MirrorRule;
}

/**
 * Mirrors the samples `which` of a batch in place: reverses each image row,
 * mirrors the x targets (even columns; `mirrorTarget`) and swaps the given
 * column pairs. Applying it twice with the same arguments gives the batch
 * back, under either mirror rule.
 *
 * @example
 * flipSamples(xb, yb, [0, 3], [1, 96, 96], kaggle15.columnFlipPairs); // true mirror
 * flipSamples(xb, yb, [0, 3], [1, 96, 96], kaggle15.columnFlipPairs, 'tutorial'); // x -> 96 - x
 */
export function flipSamples(
  xb: Float32Array,
  yb: Float32Array | undefined,
  which: ArrayLike<number>,
  imageShape: readonly number[],
  flipPairs: readonly (readonly [number, number])[],
  mirror: MirrorRule = 'exact',
): void {
  const [channels, height, width] = imageShape;
  const sampleSize = channels * height * width;
  const count = xb.length / sampleSize;
  const outputs = yb ? yb.length / count : 0;
  for (let k = 0; k < which.length; k++) {
    const sample = which[k];
    for (let row = 0; row < channels * height; row++) {
      xb.subarray(sample * sampleSize + row * width, sample * sampleSize + (row + 1) * width).reverse();
    }
    if (!yb) continue;
    const base = sample * outputs;
    for (let column = 0; column < outputs; column += 2) {
      yb[base + column] = mirrorTarget(yb[base + column], mirror, width);
    }
    for (const [a, b] of flipPairs) {
      const t = yb[base + a];
      yb[base + a] = yb[base + b];
      yb[base + b] = t;
    }
  }
}

/**
 * Checks flip pairs: non-negative integers, same parity (x with x, y with y),
 * each column in at most one pair, and below `outputs` where that is known.
 *
 * @throws ConfigError naming the bad pair.
 */
export function checkFlipPairs(pairs: readonly (readonly [number, number])[], outputs?: number): void {
  const seen = new Set<number>();
  for (const pair of pairs) {
    const text = JSON.stringify(pair);
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((c) => Number.isInteger(c) && c >= 0)) {
      throw new ConfigError(`flip pair ${text}: expected two non-negative column indices`);
    }
    const [a, b] = pair;
    if (a === b) throw new ConfigError(`flip pair ${text}: a column cannot pair with itself`);
    if (a % 2 !== b % 2)
      throw new ConfigError(`flip pair ${text}: pairs x columns (even) with x columns and y (odd) with y`);
    if (outputs !== undefined && Math.max(a, b) >= outputs) {
      throw new ConfigError(`flip pair ${text}: the net has only ${outputs} target columns`);
    }
    for (const c of pair) {
      if (seen.has(c)) throw new ConfigError(`flip pair ${text}: column ${c} is already in another pair`);
      seen.add(c);
    }
  }
}

/**
 * @example
 * const net = new NeuralNet({
 *   layers: presetSpec('net5', 30),
 *   batchIteratorTrain: new FlipBatchIterator({ batchSize: 128, shuffle: true, flipPairs: kaggle15.columnFlipPairs }),
 * });
 */
export class FlipBatchIterator extends BatchIterator {
  readonly flipPairs: [number, number][];
  readonly imageShape?: number[];
  readonly mirror: MirrorRule;

  constructor(options: FlipBatchIteratorOptions) {
    super(options);
    if (!options || !Array.isArray(options.flipPairs)) {
      throw new ConfigError('FlipBatchIterator needs flipPairs: [number, number][] (target column pairs)');
    }
    checkFlipPairs(options.flipPairs);
    if (options.imageShape && (options.imageShape.length !== 3 || !options.imageShape.every((v) => v > 0))) {
      throw new ConfigError(
        `imageShape must be [channels, height, width], got ${JSON.stringify(options.imageShape)}`,
      );
    }
    this.mirror = checkMirrorRule(options.mirror ?? 'exact');
    this.flipPairs = options.flipPairs.map(([a, b]) => [a, b]);
    this.imageShape = options.imageShape ? [...options.imageShape] : undefined;
  }

  /** Indices of the samples of a batch this iterator flips (a seeded random half). */
  flippedSamples(batchLength: number, context: TransformContext): Int32Array {
    const rng = new Rng(context.effectiveSeed, 'flip', context.epoch, context.batchIndex);
    return rng.permutation(batchLength).slice(0, Math.floor(batchLength / 2));
  }

  override transform(
    xb: Float32Array,
    yb: Float32Array | undefined,
    context: TransformContext,
  ): { x: Float32Array; y?: Float32Array } {
    const shape = this.imageShape ?? [...context.inputShape];
    if (shape.length !== 3) {
      throw new ConfigError(
        `FlipBatchIterator needs image input [channels, height, width]; the net's input is [${shape}]: pass imageShape`,
      );
    }
    const sampleSize = shape[0] * shape[1] * shape[2];
    if (sampleSize !== context.inputShape.reduce((a, b) => a * b, 1)) {
      throw new ConfigError(
        `imageShape [${shape}] does not hold the net's [${context.inputShape}] input values`,
      );
    }
    checkFlipPairs(this.flipPairs, context.outputSize);
    flipSamples(
      xb,
      yb,
      this.flippedSamples(xb.length / sampleSize, context),
      shape,
      this.flipPairs,
      this.mirror,
    );
    // A `transform` option runs after the flip, so augmentations compose.
    return super.transform(xb, yb, context);
  }

  override toConfig(): BatchIteratorConfig | undefined {
    if (this.transformOption || Object.getPrototypeOf(this) !== FlipBatchIterator.prototype) return undefined;
    return {
      type: 'FlipBatchIterator',
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      seed: this.seed,
      flipPairs: this.flipPairs,
      imageShape: this.imageShape,
      mirror: this.mirror,
    };
  }
}

/**
 * Checks a mirror rule read from options or a file.
 *
 * @throws ConfigError naming the rules there are.
 */
export function checkMirrorRule(rule: unknown): MirrorRule {
  if (!(MIRROR_RULES as readonly unknown[]).includes(rule)) {
    throw new ConfigError(`mirror must be one of ${MIRROR_RULES.join(', ')}, got ${JSON.stringify(rule)}`);
  }
  return rule as MirrorRule;
}

/**
 * Rebuilds a BatchIterator or FlipBatchIterator from its JSON form; model
 * files use `iteratorFromConfig` (`iterator-from-config.ts`), which knows every built-in iterator.
 */
export function batchIteratorFromConfig(config: BatchIteratorConfig): BatchIterator {
  switch (config.type) {
    case 'BatchIterator':
      return new BatchIterator(config);
    case 'FlipBatchIterator':
      // Files written before the mirror rule was recorded flipped the tutorial's way.
      return new FlipBatchIterator({ ...config, mirror: config.mirror ?? 'tutorial' });
    default:
      throw new ConfigError(`unknown batch iterator type '${(config as { type: string }).type}'`);
  }
}
