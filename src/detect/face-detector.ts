/**
 * The face detector boundary: an RGB photo in, face boxes with scores out.
 * Everything above it (calibrated crops, `predictPhoto`, `evaluate --detect`)
 * sees only this interface, so another detector can replace BlazeFace by
 * implementing it.
 *
 * Coordinates follow the crop rule's convention (src/data/crop.ts): pixel
 * (i, j) has its centre at (i, j); a box `{ x, y, width, height }` starts at
 * pixel (x, y), so its edges lie at x - 0.5 and x + width - 0.5.
 */
import type { RgbImage } from '../data/photo.js';

export type { RgbImage };

/** An axis-aligned box in image pixels (module comment: coordinates). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One detected face. */
export interface FaceDetection {
  box: FaceBox;
  /** The detector's confidence, in [0, 1]. */
  score: number;
  /** The detector's own coarse landmarks (x, y pairs, image pixels), when it gives any. */
  landmarks?: Float64Array;
}

/** What to keep of a detector's output. */
export interface DetectOptions {
  /** Lowest score kept. Default: the detector's own (0.5 for BlazeFace). */
  minScore?: number;
  /** Smallest face kept: the box's larger side, in pixels. Default 0 (all). */
  minFace?: number;
  /** At most this many faces, the highest scores first. Default 20. */
  maxFaces?: number;
}

/** A face detector. Faces come sorted by score, highest first. */
export interface FaceDetector {
  /** Names the detector and its weights, e.g. 'blazeface (@vladmandic/human 3.3.6)'. */
  readonly name: string;
  detect(image: RgbImage, options?: DetectOptions): Promise<FaceDetection[]>;
  dispose(): void;
}

/** Intersection over union of two boxes (0 when they do not overlap). */
export function boxIou(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}
