/**
 * Augmentation driven by the keypoint schema, in the batch iterator: every
 * training sample gets a random rotation, scale and shift (its keypoints
 * moved by exactly the map its pixels went through), a mirror with the
 * schema's left/right pairs swapped, and random gamma, contrast, brightness,
 * blur and noise.
 *
 * Every draw comes from (seed, epoch, row), so a sample's augmentation does
 * not depend on the batch it falls in, and a resumed run sees exactly the
 * batches an uninterrupted one would.
 *
 * Rotations and zooms out reach beyond the 96x96 frame. Give `source`: the
 * same faces cropped wider (`importLandmarks({ contextSize })`, the CSV's
 * `Context` column), whose central 96x96 window is the frame; without it the
 * frame's edge pixels repeat.
 */
import { IMAGE_SIZE, scaleTarget, unscaleTarget } from '../data/scaling.js';
import { ConfigError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { BatchIterator, type BatchIteratorOptions, type TransformContext } from '../train/batch-iterator.js';
import { checkFlipPairs } from '../train/flip-batch-iterator.js';
import {
  type GeometricParams,
  forwardAffine,
  invertAffine,
  transformTargets,
  warpAffine,
} from './geometry.js';
import { type PhotometricParams, applyPhotometric } from './photometric.js';

/** How strong each augmentation is; 0 (or false) turns one off. */
export interface AugmentSettings {
  /** Largest rotation in degrees, uniform in [-rotation, rotation]. */
  rotation: number;
  /** Largest relative zoom: the factor is uniform in [1 - scale, 1 + scale]. */
  scale: number;
  /** Largest shift per axis as a fraction of the frame (0.05: up to 4.8 px). */
  shift: number;
  /** Mirror half the samples (true mirror, 95 - x) and swap the schema's left/right pairs. */
  mirror: boolean;
  /** Largest brightness change, added: uniform in [-brightness, brightness]. */
  brightness: number;
  /** Largest relative contrast change: factor uniform in [1 - contrast, 1 + contrast]. */
  contrast: number;
  /** Largest gamma change: gamma = exp(uniform(-gamma, gamma)). */
  gamma: number;
  /** Fraction of samples blurred (3-tap blur, neighbour weight up to 0.25). */
  blur: number;
  /** Largest noise standard deviation (uniform in [0, noise]), in [0, 1] pixel units. */
  noise: number;
}

/** The defaults: moderate changes a face photo survives unharmed. */
export const DEFAULT_AUGMENT: Readonly<AugmentSettings> = {
  rotation: 15,
  scale: 0.1,
  shift: 0.05,
  mirror: true,
  brightness: 0.1,
  contrast: 0.2,
  gamma: 0.2,
  blur: 0.2,
  noise: 0.02,
};

/** Wider crops of the training faces, one per row of X, each `size` x `size`, the frame at their centre. */
export interface ContextImages {
  images: Float32Array;
  size: number;
}

export interface AugmentBatchIteratorOptions extends BatchIteratorOptions {
  /** Target column pairs a mirror swaps (the schema's `columnFlipPairs`, or `flipPairsFor` a subset). */
  flipPairs: [number, number][];
  /** Strengths; anything left out takes DEFAULT_AUGMENT's value. */
  augment?: Partial<AugmentSettings>;
  /** Wider crops to sample from, so rotations do not cut the face. Not saved in model files. */
  source?: ContextImages;
}

/** The JSON form kept in model files (the source images are not: pass them again on load). */
export interface AugmentBatchIteratorConfig {
  type: 'AugmentBatchIterator';
  batchSize: number;
  shuffle: boolean;
  seed?: number;
  flipPairs: [number, number][];
  augment: AugmentSettings;
}

const NUMBER_KEYS = [
  'rotation',
  'scale',
  'shift',
  'brightness',
  'contrast',
  'gamma',
  'blur',
  'noise',
] as const;

/**
 * Fills in and checks augmentation settings.
 *
 * @throws ConfigError naming the setting and what it may be.
 */
export function resolveAugment(input: Partial<AugmentSettings> = {}, where = 'augment'): AugmentSettings {
  if (typeof input !== 'object' || input === null)
    throw new ConfigError(`${where}: expected an object of settings`);
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_AUGMENT)) {
      throw new ConfigError(
        `${where}: unknown setting "${key}"; known: ${Object.keys(DEFAULT_AUGMENT).join(', ')}`,
      );
    }
  }
  const out: AugmentSettings = { ...DEFAULT_AUGMENT, ...input };
  for (const key of NUMBER_KEYS) {
    const v = out[key];
    const max =
      key === 'rotation' ? 180 : key === 'blur' ? 1 : key === 'scale' || key === 'contrast' ? 0.9 : 1;
    if (typeof v !== 'number' || !(v >= 0 && v <= max)) {
      throw new ConfigError(`${where}: "${key}" must be a number in [0, ${max}], got ${JSON.stringify(v)}`);
    }
  }
  if (typeof out.mirror !== 'boolean') {
    throw new ConfigError(`${where}: "mirror" must be true or false, got ${JSON.stringify(out.mirror)}`);
  }
  return out;
}

/** One sample's draws: what {@link AugmentBatchIterator} applies to row `row` in `epoch`. */
export function drawAugmentation(
  settings: AugmentSettings,
  seed: number,
  epoch: number,
  row: number,
): { geometry: GeometricParams; photometric: PhotometricParams } {
  const rng = new Rng(seed, 'augment', epoch, row);
  // Always the same number of draws, so turning one setting off leaves the others' values as they were.
  const u = Array.from({ length: 11 }, () => rng.next());
  const sym = (v: number, r: number) => (2 * v - 1) * r;
  const geometry: GeometricParams = {
    mirror: settings.mirror && u[0] < 0.5,
    angle: (sym(u[1], settings.rotation) * Math.PI) / 180,
    scale: 1 + sym(u[2], settings.scale),
    dx: sym(u[3], settings.shift) * IMAGE_SIZE,
    dy: sym(u[4], settings.shift) * IMAGE_SIZE,
  };
  const photometric: PhotometricParams = {
    blur: u[5] < settings.blur ? 0.05 + 0.2 * u[6] : 0,
    gamma: Math.exp(sym(u[7], settings.gamma)),
    contrast: 1 + sym(u[8], settings.contrast),
    brightness: sym(u[9], settings.brightness),
    noise: u[10] * settings.noise,
    noiseStart: rng.nextUint32(),
    noiseStride: rng.nextUint32() | 1,
  };
  return { geometry, photometric };
}

/**
 * @example
 * const iterator = new AugmentBatchIterator({
 *   batchSize: 128,
 *   shuffle: true,
 *   flipPairs: ibug68.columnFlipPairs,
 *   augment: { rotation: 15, noise: 0.02 },
 *   source: { images: dataset.context.images, size: dataset.context.size },
 * });
 * const net = new NeuralNet({ layers: presetSpec('net2', 136), batchIteratorTrain: iterator });
 */
export class AugmentBatchIterator extends BatchIterator {
  readonly flipPairs: [number, number][];
  readonly augment: AugmentSettings;
  readonly source?: ContextImages;

  constructor(options: AugmentBatchIteratorOptions) {
    super(options);
    if (!options || !Array.isArray(options.flipPairs)) {
      throw new ConfigError('AugmentBatchIterator needs flipPairs: [number, number][] (target column pairs)');
    }
    checkFlipPairs(options.flipPairs);
    this.flipPairs = options.flipPairs.map(([a, b]) => [a, b]);
    this.augment = resolveAugment(options.augment);
    if (options.source) {
      const { size, images } = options.source;
      if (!Number.isInteger(size) || size < IMAGE_SIZE || (size - IMAGE_SIZE) % 2 !== 0) {
        throw new ConfigError(
          `source size must be a whole number >= ${IMAGE_SIZE} with an even margin, got ${size}`,
        );
      }
      if (!(images instanceof Float32Array) || images.length % (size * size) !== 0) {
        throw new ConfigError(`source images must be a Float32Array of ${size}x${size} images`);
      }
      this.source = { images, size };
    }
  }

  override transform(
    xb: Float32Array,
    yb: Float32Array | undefined,
    context: TransformContext,
  ): { x: Float32Array; y?: Float32Array } {
    const pixels = IMAGE_SIZE * IMAGE_SIZE;
    const shape = context.inputShape;
    if (shape.reduce((a, b) => a * b, 1) !== pixels) {
      throw new ConfigError(
        `AugmentBatchIterator needs ${IMAGE_SIZE}x${IMAGE_SIZE} grayscale input; the net's input is [${shape}]`,
      );
    }
    const rows = context.rows;
    if (!rows) throw new ConfigError('AugmentBatchIterator needs the batch rows (use it through batches())');
    const count = xb.length / pixels;
    const outputs = yb ? yb.length / count : 0;
    if (yb) checkFlipPairs(this.flipPairs, outputs);
    const sourceSize = this.source?.size ?? IMAGE_SIZE;
    const sourcePixels = sourceSize * sourceSize;
    if (this.source && (rows.length ? Math.max(...rows) : -1) >= this.source.images.length / sourcePixels) {
      throw new ConfigError(
        `the source holds ${this.source.images.length / sourcePixels} images, fewer than the rows of X`,
      );
    }
    for (let i = 0; i < count; i++) {
      const frame = xb.subarray(i * pixels, (i + 1) * pixels);
      const { geometry, photometric } = drawAugmentation(
        this.augment,
        context.effectiveSeed,
        context.epoch,
        rows[i],
      );
      const forward = forwardAffine(geometry);
      // Resampled straight into the batch; without a source the frame is read from a copy of itself.
      const image = this.source
        ? this.source.images.subarray(rows[i] * sourcePixels, (rows[i] + 1) * sourcePixels)
        : frame.slice();
      warpAffine(image, sourceSize, frame, invertAffine(forward));
      applyPhotometric(frame, photometric);
      if (yb) {
        transformTargets(
          yb.subarray(i * outputs, (i + 1) * outputs),
          forward,
          geometry.mirror,
          this.flipPairs,
          unscaleTarget,
          scaleTarget,
        );
      }
    }
    return super.transform(xb, yb, context);
  }

  override toConfig(): AugmentBatchIteratorConfig | undefined {
    if (this.transformOption || Object.getPrototypeOf(this) !== AugmentBatchIterator.prototype)
      return undefined;
    return {
      type: 'AugmentBatchIterator',
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      seed: this.seed,
      flipPairs: this.flipPairs,
      augment: { ...this.augment },
    };
  }
}
