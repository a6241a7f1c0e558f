/**
 * The geometric part of augmentation: one affine map of the 96x96 frame
 * (mirror, then rotation and scale about the frame's centre, then a shift),
 * applied to the keypoints exactly and to the pixels by inverse mapping.
 *
 * Coordinates are frame pixels with pixel centres at integers (the crop
 * rule's convention, `src/data/crop.ts`): the frame spans -0.5 .. 95.5, its
 * centre is 47.5, and the mirror of x is 95 - x.
 */
import { IMAGE_SIZE } from '../data/scaling.js';

/** Centre of the frame in pixel coordinates (47.5 for 96 pixels). */
export const FRAME_CENTRE = (IMAGE_SIZE - 1) / 2;

/** One sample's geometric transform. */
export interface GeometricParams {
  /** Mirror left-right first (x -> 95 - x; the schema's pairs swap). */
  mirror: boolean;
  /** Rotation in radians about the frame's centre (positive turns +x towards +y, i.e. clockwise on screen). */
  angle: number;
  /** Zoom about the frame's centre (> 1: the face grows). */
  scale: number;
  /** Shift in frame pixels, applied last. */
  dx: number;
  dy: number;
}

/** The identity transform. */
export const IDENTITY: GeometricParams = { mirror: false, angle: 0, scale: 1, dx: 0, dy: 0 };

/**
 * A 2x3 affine matrix [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f.
 */
export type Affine = [number, number, number, number, number, number];

/**
 * The forward map of frame points: p' = centre + scale * R(angle) * M * (p - centre) + (dx, dy),
 * with M the mirror (diag(-1, 1)) when `mirror`.
 *
 * @example
 * const [a, b, c, d, e, f] = forwardAffine({ ...IDENTITY, mirror: true }); // x' = 95 - x
 */
export function forwardAffine(p: GeometricParams): Affine {
  const cos = Math.cos(p.angle) * p.scale;
  const sin = Math.sin(p.angle) * p.scale;
  const m = p.mirror ? -1 : 1;
  // Linear part L = s R diag(m, 1).
  const a = cos * m;
  const b = -sin;
  const d = sin * m;
  const e = cos;
  const k = FRAME_CENTRE;
  return [a, b, k + p.dx - a * k - b * k, d, e, k + p.dy - d * k - e * k];
}

/** The inverse of an affine map (where each output pixel samples the input). */
export function invertAffine([a, b, c, d, e, f]: Affine): Affine {
  const det = a * e - b * d;
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Moves the keypoints of one sample (targets scaled to [-1, 1], x then y;
 * NaN stays NaN) by the forward map, in place, then swaps the left/right
 * column pairs when the map mirrors.
 *
 * @example
 * transformTargets(yb.subarray(0, 30), forwardAffine(params), params.mirror, kaggle15.columnFlipPairs);
 */
export function transformTargets(
  targets: Float32Array,
  affine: Affine,
  mirrored: boolean,
  columnFlipPairs: readonly (readonly [number, number])[],
  toPixels: (t: number) => number,
  toTarget: (p: number) => number,
): void {
  const [a, b, c, d, e, f] = affine;
  for (let i = 0; i + 1 < targets.length; i += 2) {
    const x = toPixels(targets[i]);
    const y = toPixels(targets[i + 1]);
    targets[i] = toTarget(a * x + b * y + c);
    targets[i + 1] = toTarget(d * x + e * y + f);
  }
  if (!mirrored) return;
  for (const [p, q] of columnFlipPairs) {
    const t = targets[p];
    targets[p] = targets[q];
    targets[q] = t;
  }
}

/**
 * Resamples one image through an affine map: output pixel (ox, oy) of the
 * 96x96 frame takes the bilinear value of the source at `inverse(ox, oy)`,
 * where the source is a square image `sourceSize` pixels wide whose central
 * 96x96 window is the frame (so `sourceSize` - 96 must be even; 96 for the
 * frame itself). Beyond the source's edge the nearest edge pixel repeats.
 *
 * @param out 96 * 96 values, written
 * @example
 * warpAffine(source, 128, out, invertAffine(forwardAffine(params)));
 */
export function warpAffine(
  source: Float32Array,
  sourceSize: number,
  out: Float32Array,
  inverse: Affine,
): void {
  const [a, b, c, d, e, f] = inverse;
  const offset = (sourceSize - IMAGE_SIZE) / 2;
  const last = sourceSize - 1;
  const end = IMAGE_SIZE - 1;
  for (let oy = 0; oy < IMAGE_SIZE; oy++) {
    // Source position of output pixel (0, oy), in source pixels; steps (a, d) per output pixel.
    let qx = b * oy + c + offset;
    let qy = e * oy + f + offset;
    const row = oy * IMAGE_SIZE;
    const qx1 = qx + a * end;
    const qy1 = qy + d * end;
    if (
      Math.min(qx, qx1) >= 0 &&
      Math.max(qx, qx1) < last &&
      Math.min(qy, qy1) >= 0 &&
      Math.max(qy, qy1) < last
    ) {
      // The whole row samples inside the source (the common case): no clamping, truncation is floor.
      for (let ox = 0; ox < IMAGE_SIZE; ox++, qx += a, qy += d) {
        const x0 = qx | 0;
        const y0 = qy | 0;
        const fx = qx - x0;
        const fy = qy - y0;
        const i = y0 * sourceSize + x0;
        const p00 = source[i];
        const p10 = source[i + 1];
        const p01 = source[i + sourceSize];
        const p11 = source[i + sourceSize + 1];
        const top = p00 + fx * (p10 - p00);
        out[row + ox] = top + fy * (p01 + fx * (p11 - p01) - top);
      }
      continue;
    }
    for (let ox = 0; ox < IMAGE_SIZE; ox++, qx += a, qy += d) {
      let x0 = Math.floor(qx);
      let y0 = Math.floor(qy);
      const fx = qx - x0;
      const fy = qy - y0;
      let x1 = x0 + 1;
      let y1 = y0 + 1;
      x0 = x0 < 0 ? 0 : x0 > last ? last : x0;
      x1 = x1 < 0 ? 0 : x1 > last ? last : x1;
      y0 = y0 < 0 ? 0 : y0 > last ? last : y0;
      y1 = y1 < 0 ? 0 : y1 > last ? last : y1;
      const r0 = y0 * sourceSize;
      const r1 = y1 * sourceSize;
      const top = source[r0 + x0] + fx * (source[r0 + x1] - source[r0 + x0]);
      const bottom = source[r1 + x0] + fx * (source[r1 + x1] - source[r1 + x0]);
      out[row + ox] = top + fy * (bottom - top);
    }
  }
}
