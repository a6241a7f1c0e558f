/**
 * The numbers of the Kaggle frame, in one place: images are 96x96 grayscale,
 * pixels are scaled from 0..255 to [0, 1], and keypoint coordinates from
 * pixels to [-1, 1] by (v - 48) / 48. So an RMSE in pixels is sqrt(MSE) * 48.
 */

/** Width and height of the frame every network sees. */
export const IMAGE_SIZE = 96;
/** Centre of the frame in pixels; targets are (v - TARGET_CENTER) / TARGET_SCALE. */
export const TARGET_CENTER = 48;
/** Half the frame in pixels. */
export const TARGET_SCALE = 48;
/** Largest pixel value of an 8-bit image. */
export const PIXEL_MAX = 255;

/** Pixel coordinate -> network target. */
export function scaleTarget(pixels: number): number {
  return (pixels - TARGET_CENTER) / TARGET_SCALE;
}

/** Network target -> pixel coordinate. */
export function unscaleTarget(target: number): number {
  return target * TARGET_SCALE + TARGET_CENTER;
}

/** Root of a mean squared error in target units, as pixels. */
export function rmseInPixels(mse: number): number {
  return Math.sqrt(mse) * TARGET_SCALE;
}

/**
 * How far outside its image (or frame) a keypoint may lie, as a fraction of
 * the image's side along that axis: a point a few pixels off the edge (a chin cut by
 * the crop, a jittered box) is kept; one far outside is a data error.
 */
export const COORDINATE_MARGIN = 0.25;

/**
 * The range a coordinate along an image side of `side` pixels may take:
 * [-margin, side + margin], margin = COORDINATE_MARGIN * side (at least 2 px).
 *
 * @example
 * coordinateRange(IMAGE_SIZE); // { min: -24, max: 120 }
 */
export function coordinateRange(side: number): { min: number; max: number } {
  const margin = Math.max(2, COORDINATE_MARGIN * side);
  return { min: -margin, max: side + margin };
}

/**
 * How a left-right flip moves an x coordinate.
 * - 'exact': the true mirror. Pixel i becomes pixel 95 - i, and so does a
 *   point: with pixel centres at integers (the crop rule's convention), the
 *   mirror of x is 95 - x. The default everywhere.
 * - 'tutorial': the tutorial's rule, negating the scaled x, i.e. x -> 96 - x:
 *   half a pixel off the image's mirror, so a flipped sample's label sits 1 px
 *   right of where its mirrored pixels put it. Kept for exact reproduction of
 *   the tutorial's net3, net5, net6 and net7.
 */
export type MirrorRule = 'exact' | 'tutorial';

/** The mirror rules, for option parsing. */
export const MIRROR_RULES: readonly MirrorRule[] = ['exact', 'tutorial'];

/**
 * The scaled x target of a point after mirroring a frame `width` pixels wide
 * (96 for the network's frame).
 *
 * @example
 * mirrorTarget(scaleTarget(30), 'exact'); // scaleTarget(65)
 * mirrorTarget(scaleTarget(30), 'tutorial'); // scaleTarget(66)
 */
export function mirrorTarget(target: number, rule: MirrorRule, width: number = IMAGE_SIZE): number {
  if (rule === 'tutorial') return -target;
  return (width - 1 - 2 * TARGET_CENTER) / TARGET_SCALE - target;
}
