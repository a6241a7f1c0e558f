/**
 * Contact sheets: a grid of faces with their keypoints drawn, to check an
 * import or a model by eye. Labels are green, predictions red.
 */
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { PIXELS_PER_IMAGE } from './dataset.js';
import { IMAGE_SIZE, PIXEL_MAX, unscaleTarget } from './scaling.js';

/** What `writeContactSheet` draws. */
export interface ContactSheetInput {
  /** Frames, `count * 96 * 96` values in [0, 1]. */
  images: Float32Array;
  count: number;
  /** Scaled targets (`count * columns`, x,y pairs), drawn in green; NaN points are skipped. */
  labels?: Float32Array;
  /** Scaled predictions in the same layout, drawn in red. */
  predictions?: Float32Array;
  /** Faces per row. Default: up to 8. */
  columns?: number;
  /** Most faces drawn (the first ones). Default 64. */
  maxFaces?: number;
  /** Pixels per frame pixel. Default 2. */
  zoom?: number;
}

const GAP = 2;
const GREEN: [number, number, number] = [40, 230, 60];
const RED: [number, number, number] = [255, 40, 40];

/** Size in pixels of the sheet `writeContactSheet` makes for these options. */
export function contactSheetSize(input: Pick<ContactSheetInput, 'count' | 'columns' | 'maxFaces' | 'zoom'>): {
  width: number;
  height: number;
} {
  const faces = Math.min(input.count, input.maxFaces ?? 64);
  const columns = Math.max(1, Math.min(input.columns ?? 8, faces));
  const rows = Math.max(1, Math.ceil(faces / columns));
  const cell = IMAGE_SIZE * (input.zoom ?? 2);
  return { width: columns * cell + (columns + 1) * GAP, height: rows * cell + (rows + 1) * GAP };
}

/**
 * Draws a grid of faces with keypoints and writes it as a PNG (atomically).
 *
 * @example
 * await writeContactSheet('check.png', { images: ds.images, count: ds.count, labels: ds.targets });
 */
export async function writeContactSheet(path: string, input: ContactSheetInput): Promise<void> {
  const { images, count } = input;
  if (images.length < count * PIXELS_PER_IMAGE) {
    throw new ConfigError(`images has ${images.length} values, expected ${count} x ${PIXELS_PER_IMAGE}`);
  }
  const zoom = input.zoom ?? 2;
  const faces = Math.min(count, input.maxFaces ?? 64);
  const columns = Math.max(1, Math.min(input.columns ?? 8, faces));
  const { width, height } = contactSheetSize(input);
  const cell = IMAGE_SIZE * zoom;
  const rgb = new Uint8Array(width * height * 3).fill(60);
  const pointWidth = (points: Float32Array | undefined, what: string) => {
    if (!points) return 0;
    if (count === 0 || points.length % count !== 0 || (points.length / count) % 2 !== 0) {
      throw new ConfigError(`${what} has ${points.length} values, not x,y pairs for ${count} faces`);
    }
    return points.length / count;
  };
  const labelWidth = pointWidth(input.labels, 'labels');
  const predictionWidth = pointWidth(input.predictions, 'predictions');

  const dot = (cx: number, cy: number, color: [number, number, number], left: number, top: number) => {
    const r = Math.max(1, Math.round(zoom * 0.75));
    const px = Math.round(left + (cx + 0.5) * zoom - 0.5);
    const py = Math.round(top + (cy + 0.5) * zoom - 0.5);
    for (let y = py - r; y <= py + r; y++) {
      for (let x = px - r; x <= px + r; x++) {
        // Inside the cell only, so a point far off the frame does not spill into a neighbour.
        if (x < left || y < top || x >= left + cell || y >= top + cell) continue;
        const o = (y * width + x) * 3;
        rgb[o] = color[0];
        rgb[o + 1] = color[1];
        rgb[o + 2] = color[2];
      }
    }
  };

  for (let f = 0; f < faces; f++) {
    const left = GAP + (f % columns) * (cell + GAP);
    const top = GAP + Math.floor(f / columns) * (cell + GAP);
    for (let y = 0; y < cell; y++) {
      const src = f * PIXELS_PER_IMAGE + Math.floor(y / zoom) * IMAGE_SIZE;
      for (let x = 0; x < cell; x++) {
        const v = Math.round(Math.min(1, Math.max(0, images[src + Math.floor(x / zoom)])) * PIXEL_MAX);
        const o = ((top + y) * width + left + x) * 3;
        rgb[o] = rgb[o + 1] = rgb[o + 2] = v;
      }
    }
    for (const [points, w, color] of [
      [input.labels, labelWidth, GREEN],
      [input.predictions, predictionWidth, RED],
    ] as const) {
      if (!points) continue;
      for (let c = 0; c < w; c += 2) {
        const x = points[f * w + c];
        const y = points[f * w + c + 1];
        if (Number.isFinite(x) && Number.isFinite(y))
          dot(unscaleTarget(x), unscaleTarget(y), color, left, top);
      }
    }
  }
  const { default: sharp } = await import('sharp');
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  await writeFileAtomic(path, png);
}
