/**
 * The one in-memory form of keypoint data. Every reader (Kaggle CSV, image
 * import, generated faces) produces it; training, evaluation and the writers
 * consume it.
 */
import { ConfigError } from '../errors.js';
import type { KeypointSchema } from './schemas.js';
import { IMAGE_SIZE } from './scaling.js';

/** Values per image: a 96x96 grayscale frame. */
export const PIXELS_PER_IMAGE = IMAGE_SIZE * IMAGE_SIZE;

/**
 * Images and keypoints of `count` faces.
 *
 * - `images`: `count * 96 * 96` values in [0, 1], row-major, one frame after
 *   the other (empty for a labels-only file).
 * - `targets`: `count * schema.columns.length` values scaled to [-1, 1] by
 *   `scaleTarget`; NaN marks a missing keypoint coordinate.
 * - `ids`: one name per row (file name, Kaggle row number).
 * - `groups`: optional, one key per row (the identity) for group-aware splits.
 * - `context`: optional, a wider crop of each face, `size` x `size` pixels
 *   whose central 96x96 window is exactly `images`' frame (same scale, `size`
 *   - 96 even), so augmentation can rotate and zoom out without cutting the face.
 */
export interface KeypointDataset {
  schema: KeypointSchema;
  count: number;
  images: Float32Array;
  targets: Float32Array;
  ids: string[];
  groups?: string[];
  context?: ContextCrops;
}

/** Wider crops of a dataset's faces: `count * size * size` values in [0, 1]. */
export interface ContextCrops {
  size: number;
  images: Float32Array;
}

/** Whether row `row` has every target present. */
export function isCompleteRow(dataset: KeypointDataset, row: number): boolean {
  const width = dataset.schema.columns.length;
  for (let c = row * width; c < (row + 1) * width; c++) {
    if (Number.isNaN(dataset.targets[c])) return false;
  }
  return true;
}

/**
 * Number of rows with every target present.
 *
 * @example
 * countComplete(dataset); // 2140 for Kaggle's training.csv
 */
export function countComplete(dataset: KeypointDataset): number {
  let n = 0;
  for (let r = 0; r < dataset.count; r++) if (isCompleteRow(dataset, r)) n++;
  return n;
}

/**
 * Per-column count of present (non-NaN) targets.
 *
 * @example
 * presentCounts(dataset)[20]; // rows that have nose_tip_x
 */
export function presentCounts(dataset: KeypointDataset): number[] {
  const width = dataset.schema.columns.length;
  const counts = new Array<number>(width).fill(0);
  for (let i = 0; i < dataset.count * width; i++) {
    if (!Number.isNaN(dataset.targets[i])) counts[i % width]++;
  }
  return counts;
}

/**
 * A new dataset made of the given rows, in the given order (copies the data).
 *
 * @example
 * const valid = subsetDataset(dataset, split.valid);
 */
export function subsetDataset(dataset: KeypointDataset, rows: ArrayLike<number>): KeypointDataset {
  const width = dataset.schema.columns.length;
  const hasImages = dataset.images.length > 0;
  const images = new Float32Array(hasImages ? rows.length * PIXELS_PER_IMAGE : 0);
  const targets = new Float32Array(rows.length * width);
  const ids: string[] = [];
  const groups: string[] | undefined = dataset.groups ? [] : undefined;
  const perContext = dataset.context ? dataset.context.size ** 2 : 0;
  const context = dataset.context ? new Float32Array(rows.length * perContext) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!(r >= 0 && r < dataset.count)) throw new ConfigError(`row ${r} is outside 0..${dataset.count - 1}`);
    if (hasImages) {
      images.set(
        dataset.images.subarray(r * PIXELS_PER_IMAGE, (r + 1) * PIXELS_PER_IMAGE),
        i * PIXELS_PER_IMAGE,
      );
    }
    targets.set(dataset.targets.subarray(r * width, (r + 1) * width), i * width);
    context?.set(dataset.context!.images.subarray(r * perContext, (r + 1) * perContext), i * perContext);
    ids.push(dataset.ids[r]);
    groups?.push(dataset.groups![r]);
  }
  return {
    schema: dataset.schema,
    count: rows.length,
    images,
    targets,
    ids,
    ...(groups ? { groups } : {}),
    ...(context ? { context: { size: dataset.context!.size, images: context } } : {}),
  };
}

/**
 * Only the rows with every target present: the tutorial's way of loading
 * Kaggle's data (2140 of 7049 rows).
 */
export function dropIncompleteRows(dataset: KeypointDataset): KeypointDataset {
  const rows: number[] = [];
  for (let r = 0; r < dataset.count; r++) if (isCompleteRow(dataset, r)) rows.push(r);
  return subsetDataset(dataset, rows);
}

/**
 * Checks the array sizes against `count` and the schema; throws ConfigError
 * naming what is off. Writers call it so a malformed dataset never reaches a file.
 */
export function checkDataset(dataset: KeypointDataset): void {
  const { count, schema } = dataset;
  const expect = (what: string, actual: number, expected: number) => {
    if (actual !== expected)
      throw new ConfigError(`dataset ${what} has ${actual} entries, expected ${expected}`);
  };
  if (dataset.images.length !== 0) expect('images', dataset.images.length, count * PIXELS_PER_IMAGE);
  expect('targets', dataset.targets.length, count * schema.columns.length);
  expect('ids', dataset.ids.length, count);
  if (dataset.groups) expect('groups', dataset.groups.length, count);
  if (dataset.context) {
    const { size } = dataset.context;
    if (!Number.isInteger(size) || size < IMAGE_SIZE || (size - IMAGE_SIZE) % 2 !== 0) {
      throw new ConfigError(
        `dataset context size must be a whole number >= ${IMAGE_SIZE} with an even margin, got ${size}`,
      );
    }
    expect('context images', dataset.context.images.length, count * size * size);
  }
}
