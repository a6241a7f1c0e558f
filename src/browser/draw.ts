/** Drawing predicted keypoints (and the face box they were predicted in) onto a canvas. */
import type { CropBox } from '../data/crop.js';

export interface DrawOptions {
  /** Fill colour of the points. Default '#ff1744' (a red no gray photo contains). */
  color?: string;
  /** Radius of a point in canvas pixels. Default 2.5. */
  radius?: number;
  /** Outline the face box in this colour (default '#00e5ff'); null draws no box. */
  boxColor?: string | null;
}

/** Default colours, so a test or a screenshot check can look for them. */
export const POINT_COLOR = '#ff1744';
export const BOX_COLOR = '#00e5ff';

/**
 * Draws points (x,y pairs in the canvas' pixels; NaN skipped) and optionally their box.
 * Pixel centres follow the crop's convention: a point at x = 10 is on pixel 10's centre.
 *
 * @example
 * context.drawImage(image, 0, 0);
 * drawKeypoints(context, face.points, { box: face.box });
 */
export function drawKeypoints(
  context: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D,
  points: ArrayLike<number>,
  options: DrawOptions & { box?: CropBox } = {},
): void {
  const radius = options.radius ?? 2.5;
  context.save();
  const boxColor = options.boxColor === undefined ? BOX_COLOR : options.boxColor;
  if (options.box && boxColor) {
    const { x, y, size } = options.box;
    context.strokeStyle = boxColor;
    context.lineWidth = 1;
    // The box's edges lie half a pixel before its first pixel's centre (data/crop.ts).
    context.strokeRect(x, y, size - 1, size - 1);
  }
  context.fillStyle = options.color ?? POINT_COLOR;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    context.beginPath();
    // Canvas coordinates put pixel i's centre at i + 0.5.
    context.arc(x + 0.5, y + 0.5, radius, 0, 2 * Math.PI);
    context.fill();
  }
  context.restore();
}
