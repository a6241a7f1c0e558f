/**
 * Keypoint schemas as data: the names and order of the keypoints, the target
 * columns (x then y of each keypoint) and the left/right pairs that a
 * horizontal flip swaps. "left" and "right" are always the subject's own, so
 * the subject's left eye is on the image's right.
 *
 * Every other module (flip augmentation, CSV files, import, evaluation) reads
 * these tables; nothing else spells a keypoint name or a pair.
 */
import { ConfigError } from '../errors.js';

/** Names a schema can have. */
export type SchemaName = 'kaggle15' | 'ibug68';

/** One keypoint layout. */
export interface KeypointSchema {
  name: SchemaName;
  /** Keypoint names in order. */
  keypoints: string[];
  /** Target column names: `${keypoint}_x`, `${keypoint}_y` for each keypoint, in order. */
  columns: string[];
  /** Pairs of keypoint indices that a horizontal flip swaps (each index at most once). */
  keypointFlipPairs: [number, number][];
  /** The same pairs as target column indices: x with x, y with y. */
  columnFlipPairs: [number, number][];
}

function columnsOf(keypoints: string[]): string[] {
  return keypoints.flatMap((k) => [`${k}_x`, `${k}_y`]);
}

function columnPairsOf(pairs: [number, number][]): [number, number][] {
  return pairs.flatMap(([a, b]): [number, number][] => [
    [2 * a, 2 * b],
    [2 * a + 1, 2 * b + 1],
  ]);
}

function makeSchema(
  name: SchemaName,
  keypoints: string[],
  keypointFlipPairs: [number, number][],
): KeypointSchema {
  return {
    name,
    keypoints,
    columns: columnsOf(keypoints),
    keypointFlipPairs,
    columnFlipPairs: columnPairsOf(keypointFlipPairs),
  };
}

/** The 15 keypoints of Kaggle's "Facial Keypoints Detection", in the order of its CSV columns. */
const KAGGLE15_KEYPOINTS = [
  'left_eye_center',
  'right_eye_center',
  'left_eye_inner_corner',
  'left_eye_outer_corner',
  'right_eye_inner_corner',
  'right_eye_outer_corner',
  'left_eyebrow_inner_end',
  'left_eyebrow_outer_end',
  'right_eyebrow_inner_end',
  'right_eyebrow_outer_end',
  'nose_tip',
  'mouth_left_corner',
  'mouth_right_corner',
  'mouth_center_top_lip',
  'mouth_center_bottom_lip',
];

/**
 * Kaggle's 15 keypoints, 30 columns.
 *
 * @example
 * kaggle15.columns[0]; // 'left_eye_center_x'
 * kaggle15.columnFlipPairs[0]; // [0, 2]: left_eye_center_x <-> right_eye_center_x
 */
export const kaggle15: KeypointSchema = makeSchema('kaggle15', KAGGLE15_KEYPOINTS, [
  [0, 1],
  [2, 4],
  [3, 5],
  [6, 8],
  [7, 9],
  [11, 12],
]);

/**
 * Names of the iBUG / 300-W 68 points. Indices follow the standard markup: jaw
 * 0-16 (0 at the subject's right ear), right brow 17-21, left brow 22-26, nose
 * bridge 27-30, nose base 31-35, right eye 36-41, left eye 42-47, outer lip
 * 48-59, inner lip 60-67. Mirrored points differ only by left/right in their
 * names, so a name alone tells its mirror.
 */
const IBUG68_KEYPOINTS = [
  // jaw 0-16: numbered from the chin outwards on each side
  ...[8, 7, 6, 5, 4, 3, 2, 1].map((k) => `right_jaw_${k}`),
  'chin',
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((k) => `left_jaw_${k}`),
  // brows 17-26: numbered from the inner end outwards
  ...[5, 4, 3, 2, 1].map((k) => `right_eyebrow_${k}`),
  ...[1, 2, 3, 4, 5].map((k) => `left_eyebrow_${k}`),
  // nose 27-35
  'nose_bridge_1',
  'nose_bridge_2',
  'nose_bridge_3',
  'nose_tip',
  'right_nose_base_2',
  'right_nose_base_1',
  'nose_base_center',
  'left_nose_base_1',
  'left_nose_base_2',
  // right eye 36-41, clockwise in the image from the outer corner
  'right_eye_outer_corner',
  'right_eye_upper_outer',
  'right_eye_upper_inner',
  'right_eye_inner_corner',
  'right_eye_lower_inner',
  'right_eye_lower_outer',
  // left eye 42-47, clockwise in the image from the inner corner
  'left_eye_inner_corner',
  'left_eye_upper_inner',
  'left_eye_upper_outer',
  'left_eye_outer_corner',
  'left_eye_lower_outer',
  'left_eye_lower_inner',
  // outer lip 48-59, clockwise in the image from the subject's right corner
  'mouth_right_corner',
  'upper_lip_right_2',
  'upper_lip_right_1',
  'upper_lip_top',
  'upper_lip_left_1',
  'upper_lip_left_2',
  'mouth_left_corner',
  'lower_lip_left_2',
  'lower_lip_left_1',
  'lower_lip_bottom',
  'lower_lip_right_1',
  'lower_lip_right_2',
  // inner lip 60-67
  'inner_mouth_right_corner',
  'inner_upper_lip_right',
  'inner_upper_lip_center',
  'inner_upper_lip_left',
  'inner_mouth_left_corner',
  'inner_lower_lip_left',
  'inner_lower_lip_center',
  'inner_lower_lip_right',
];

/**
 * The iBUG / 300-W 68-point markup with its mirror pairs.
 *
 * @example
 * ibug68.keypoints[36]; // 'right_eye_outer_corner'
 */
export const ibug68: KeypointSchema = makeSchema('ibug68', IBUG68_KEYPOINTS, [
  // jaw
  [0, 16],
  [1, 15],
  [2, 14],
  [3, 13],
  [4, 12],
  [5, 11],
  [6, 10],
  [7, 9],
  // brows
  [17, 26],
  [18, 25],
  [19, 24],
  [20, 23],
  [21, 22],
  // nose
  [31, 35],
  [32, 34],
  // eyes
  [36, 45],
  [37, 44],
  [38, 43],
  [39, 42],
  [40, 47],
  [41, 46],
  // outer lip
  [48, 54],
  [49, 53],
  [50, 52],
  [55, 59],
  [56, 58],
  // inner lip
  [60, 64],
  [61, 63],
  [65, 67],
]);

/**
 * How each Kaggle keypoint is made from the 68 points: the mean of the listed
 * point indices (an eye centre is the mean of its six eye points).
 */
export const IBUG68_TO_KAGGLE15: readonly { keypoint: string; from: readonly number[] }[] = [
  { keypoint: 'left_eye_center', from: [42, 43, 44, 45, 46, 47] },
  { keypoint: 'right_eye_center', from: [36, 37, 38, 39, 40, 41] },
  { keypoint: 'left_eye_inner_corner', from: [42] },
  { keypoint: 'left_eye_outer_corner', from: [45] },
  { keypoint: 'right_eye_inner_corner', from: [39] },
  { keypoint: 'right_eye_outer_corner', from: [36] },
  { keypoint: 'left_eyebrow_inner_end', from: [22] },
  { keypoint: 'left_eyebrow_outer_end', from: [26] },
  { keypoint: 'right_eyebrow_inner_end', from: [21] },
  { keypoint: 'right_eyebrow_outer_end', from: [17] },
  { keypoint: 'nose_tip', from: [30] },
  { keypoint: 'mouth_left_corner', from: [54] },
  { keypoint: 'mouth_right_corner', from: [48] },
  { keypoint: 'mouth_center_top_lip', from: [51] },
  { keypoint: 'mouth_center_bottom_lip', from: [57] },
];

const SCHEMAS: Record<SchemaName, KeypointSchema> = { kaggle15, ibug68 };

/** Names of all schemas. */
export const SCHEMA_NAMES = Object.keys(SCHEMAS) as SchemaName[];

/**
 * Looks a schema up by name.
 *
 * @example
 * getSchema('kaggle15').columns.length; // 30
 */
export function getSchema(name: string): KeypointSchema {
  if (!Object.hasOwn(SCHEMAS, name)) {
    throw new ConfigError(`unknown keypoint schema "${name}"; expected one of ${SCHEMA_NAMES.join(', ')}`);
  }
  return SCHEMAS[name as SchemaName];
}

/**
 * Maps 68 points (x,y pairs: 136 values, any units) to the Kaggle 15 (30 values).
 * A Kaggle point is NaN when any of its source points is.
 *
 * @example
 * const kagglePoints = mapIbug68ToKaggle15(points68); // Float64Array(30)
 */
export function mapIbug68ToKaggle15(points: ArrayLike<number>): Float64Array {
  if (points.length !== ibug68.columns.length) {
    throw new ConfigError(`mapIbug68ToKaggle15 needs ${ibug68.columns.length} values, got ${points.length}`);
  }
  const out = new Float64Array(kaggle15.columns.length);
  IBUG68_TO_KAGGLE15.forEach(({ from }, k) => {
    let x = 0;
    let y = 0;
    for (const i of from) {
      x += points[2 * i];
      y += points[2 * i + 1];
    }
    out[2 * k] = x / from.length;
    out[2 * k + 1] = y / from.length;
  });
  return out;
}

/**
 * Applies a horizontal flip's pair swap to one row of points in place (x,y
 * pairs): values of paired keypoints trade places. Mirroring the x values
 * themselves is the caller's job, since it depends on the frame.
 */
export function swapFlipPairs(schema: KeypointSchema, row: { [i: number]: number }): void {
  for (const [a, b] of schema.columnFlipPairs) {
    const t = row[a];
    row[a] = row[b];
    row[b] = t;
  }
}
