/**
 * Keypoints drawn over an image of any size, in its own pixel coordinates:
 * what `facepoints predict --draw` writes so predictions can be checked by eye.
 */
import sharp from 'sharp';

import type { CropBox } from '../data/crop.js';
import { writeFileAtomic } from '../io/atomic-write.js';

export interface OverlayOptions {
  /** CSS colour of the dots (default red). */
  color?: string;
  /** Dot radius in image pixels (default: 1 % of the larger side, at least 1.5). */
  radius?: number;
  /** An optional square (the face crop box) outlined in the same colour. */
  box?: CropBox;
}

/**
 * Renders the image with a dot on every keypoint and returns PNG bytes.
 * Points are x, y pairs in the image's pixels, pixel (i, j)'s centre at
 * (i, j) as in `src/data/crop.ts`; NaN points are skipped.
 *
 * @example
 * const png = await keypointOverlayPng('face.jpg', points, { box });
 */
export async function keypointOverlayPng(
  image: string | Uint8Array,
  points: ArrayLike<number>,
  options: OverlayOptions = {},
): Promise<Buffer> {
  const base = sharp(image);
  const { width = 0, height = 0 } = await base.metadata();
  const color = options.color ?? '#ff2828';
  const radius = options.radius ?? Math.max(1.5, Math.max(width, height) / 100);
  const dots: string[] = [];
  // SVG puts pixel i's edges at i and i + 1, so a pixel centre i is at i + 0.5 there (a box's first pixel x at x).
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i] + 0.5;
    const y = points[i + 1] + 0.5;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    dots.push(
      `<circle cx="${x.toFixed(2)}" cy="${y.toFixed(2)}" r="${radius.toFixed(2)}" fill="${color}" stroke="white" stroke-width="${(radius / 3).toFixed(2)}"/>`,
    );
  }
  const box = options.box
    ? `<rect x="${options.box.x}" y="${options.box.y}" width="${options.box.size}" height="${options.box.size}" fill="none" stroke="${color}" stroke-width="${(radius / 2).toFixed(2)}"/>`
    : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${box}${dots.join('')}</svg>`;
  return base
    .ensureAlpha()
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}

/**
 * Writes the overlay as a PNG, atomically.
 *
 * @example
 * await writeKeypointOverlay('face.jpg', points, 'drawn/face.png');
 */
export async function writeKeypointOverlay(
  image: string | Uint8Array,
  points: ArrayLike<number>,
  outPath: string,
  options: OverlayOptions = {},
): Promise<void> {
  await writeFileAtomic(outPath, await keypointOverlayPng(image, points, options));
}
