/**
 * Faces drawn over a photo: each detector box outlined, its keypoints dotted
 * and its index written by it (what `predict --draw` writes for photos). The
 * photo is turned upright by its EXIF orientation first, as the points are.
 */
import sharp from 'sharp';

import type { FaceBox } from '../detect/face-detector.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/** What to draw of one face. */
export interface DrawnFace {
  box: FaceBox;
  points: ArrayLike<number>;
  label?: string;
}

/**
 * Writes the upright photo with its faces drawn, as a PNG, atomically.
 *
 * @example
 * await writeFacesOverlay('group.jpg', faces.map((f) => ({ box: f.box, points: f.points, label: String(f.index) })), 'drawn/group.png');
 */
export async function writeFacesOverlay(
  image: string | Uint8Array,
  faces: readonly DrawnFace[],
  outPath: string,
): Promise<void> {
  const upright = await sharp(image).rotate().png().toBuffer({ resolveWithObject: true });
  const { width, height } = upright.info;
  const parts: string[] = [];
  // SVG puts pixel i's edges at i and i + 1: a point on pixel centre i is at i + 0.5, a box's first pixel x at x.
  for (const face of faces) {
    const side = Math.max(face.box.width, face.box.height);
    const radius = Math.max(1.2, side / 60);
    parts.push(
      `<rect x="${face.box.x.toFixed(2)}" y="${face.box.y.toFixed(2)}" width="${face.box.width.toFixed(2)}" height="${face.box.height.toFixed(2)}" fill="none" stroke="#28c8ff" stroke-width="${(radius / 1.5).toFixed(2)}"/>`,
    );
    if (face.label !== undefined) {
      parts.push(
        `<text x="${face.box.x.toFixed(2)}" y="${(face.box.y - radius).toFixed(2)}" font-family="DejaVu Sans, sans-serif" font-size="${Math.max(10, side / 8).toFixed(1)}" fill="#28c8ff">${face.label}</text>`,
      );
    }
    for (let i = 0; i + 1 < face.points.length; i += 2) {
      const x = face.points[i] + 0.5;
      const y = face.points[i + 1] + 0.5;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      parts.push(
        `<circle cx="${x.toFixed(2)}" cy="${y.toFixed(2)}" r="${radius.toFixed(2)}" fill="#ff2828"/>`,
      );
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
  const png = await sharp(upright.data)
    .ensureAlpha()
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
  await writeFileAtomic(outPath, png);
}
