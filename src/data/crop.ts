/**
 * THE face crop: how a face in an image of any size becomes the 96x96
 * grayscale frame a network sees, and how points move between the two.
 * Import, evaluation and prediction all call these functions, so a model
 * always sees faces framed the same way.
 *
 * Coordinates (one convention for pixels, points and boxes): pixel (i, j)
 * covers [i - 0.5, i + 0.5] x [j - 0.5, j + 0.5], so its centre is at (i, j),
 * in the source image and in the frame alike. That is how Kaggle's and
 * Udacity's labels are meant (a point on pixel 10 reads 10, not 10.5).
 * A crop box `{ x, y, size }` counts pixels the way an image library does:
 * it starts at pixel (x, y) and spans `size` pixels, so its edges lie at
 * x - 0.5 and x + size - 0.5. `{ x: 0, y: 0, size: 96 }` is the whole of a
 * 96x96 image and maps both pixels and points onto themselves.
 */
import { ConfigError, DataFormatError } from '../errors.js';
import type { Rng } from '../random/rng.js';
import { IMAGE_SIZE, PIXEL_MAX } from './scaling.js';

/**
 * A square region of a source image: its top-left pixel (x, y), possibly
 * fractional or outside the image, and its side in pixels. The whole of a
 * 96x96 image is `{ x: 0, y: 0, size: 96 }` (module comment: coordinates).
 */
export interface CropBox {
  x: number;
  y: number;
  size: number;
}

/**
 * Fraction of the landmarks' larger extent added on each side. With the 68
 * points, whose box runs from the brows to the chin and ear to ear, 0.2 fits
 * the whole face with some forehead and background in the frame.
 */
export const FACE_CROP_MARGIN = 0.2;

/** Distance from a pixel's centre to its edge: pixel i covers [i - 0.5, i + 0.5]. */
const PIXEL_EDGE = 0.5;

/**
 * The bounding rectangle of the finite points of an interleaved [x0, y0, x1,
 * y1, ...] list (missing points are NaN and skipped).
 *
 * @throws ConfigError naming `what` when no point is finite
 * @example
 * pointBounds([10, 20, 30, 60], 'landmarkBox'); // { minX: 10, minY: 20, maxX: 30, maxY: 60 }
 */
export function pointBounds(
  points: ArrayLike<number>,
  what: string,
): { minX: number; minY: number; maxX: number; maxY: number } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  if (minX === Infinity) throw new ConfigError(`${what} needs at least one finite point`);
  return { minX, minY, maxX, maxY };
}

/**
 * The crop rule. Take the bounding box of the points (NaN points ignored),
 * make a square of side `max(width, height) * (1 + 2 * margin)`, centred on
 * the bounding box's centre. The box may reach outside the image; the
 * outside is padded when cropping.
 *
 * @example
 * const box = faceCropBox(points68); // { x, y, size } in source pixels
 * const frame = cropToFrame(image, box); // Float32Array(96 * 96)
 */
export function faceCropBox(points: ArrayLike<number>, options: { margin?: number } = {}): CropBox {
  const margin = options.margin ?? FACE_CROP_MARGIN;
  const { minX, minY, maxX, maxY } = pointBounds(points, 'faceCropBox');
  // A single point or a line of points still gets a usable box.
  const extent = Math.max(maxX - minX, maxY - minY, 1);
  const size = extent * (1 + 2 * margin);
  // The box's edge is half a pixel before its first pixel's centre.
  return {
    x: (minX + maxX) / 2 - size / 2 + PIXEL_EDGE,
    y: (minY + maxY) / 2 - size / 2 + PIXEL_EDGE,
    size,
  };
}

/**
 * The square the net sees when no face box is given: the whole image,
 * centred, padded on its short side.
 *
 * @example
 * wholeImageBox(200, 100); // { x: 0, y: -50, size: 200 }
 */
export function wholeImageBox(width: number, height: number): CropBox {
  const size = Math.max(width, height);
  return { x: (width - size) / 2, y: (height - size) / 2, size };
}

/** How far `jitterBox` may move and resize a box. */
export interface CropJitter {
  /** Largest shift of the centre, as a fraction of the box size (each axis). Default 0.05. */
  shift?: number;
  /** Largest relative change of the size: the factor is uniform in [1 - scale, 1 + scale]. Default 0.1. */
  scale?: number;
}

/**
 * A randomly shifted and scaled copy of a box, for augmentation. Draws from
 * `rng` only, so a seeded stream gives the same boxes every run.
 *
 * @example
 * const box = jitterBox(faceCropBox(points), new Rng(seed, 'jitter', index));
 */
export function jitterBox(box: CropBox, rng: Rng, jitter: CropJitter = {}): CropBox {
  const shift = jitter.shift ?? 0.05;
  const scale = jitter.scale ?? 0.1;
  const cx = box.x + box.size / 2 + rng.uniform(-shift, shift) * box.size;
  const cy = box.y + box.size / 2 + rng.uniform(-shift, shift) * box.size;
  const size = box.size * rng.uniform(1 - scale, 1 + scale);
  return { x: cx - size / 2, y: cy - size / 2, size };
}

/**
 * Source points (x,y pairs, pixels) -> frame pixels of the box's crop. NaN stays NaN.
 *
 * @example
 * const framePoints = pointsToFrame(points, box); // 96x96 frame pixels
 */
export function pointsToFrame(points: ArrayLike<number>, box: CropBox): Float64Array {
  const s = IMAGE_SIZE / box.size;
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = (points[i] - box.x + PIXEL_EDGE) * s - PIXEL_EDGE;
    out[i + 1] = (points[i + 1] - box.y + PIXEL_EDGE) * s - PIXEL_EDGE;
  }
  return out;
}

/**
 * Frame pixels -> source points, the inverse of `pointsToFrame`: how a
 * prediction made on a crop lands on the original image.
 *
 * @example
 * const onImage = pointsFromFrame(predictedPixels, box);
 */
export function pointsFromFrame(points: ArrayLike<number>, box: CropBox): Float64Array {
  const k = box.size / IMAGE_SIZE;
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    out[i] = (points[i] + PIXEL_EDGE) * k + box.x - PIXEL_EDGE;
    out[i + 1] = (points[i + 1] + PIXEL_EDGE) * k + box.y - PIXEL_EDGE;
  }
  return out;
}

/** A decoded image: 8-bit grayscale, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Decodes a PNG or JPEG (or any format sharp reads) by its content, never
 * its name, into 8-bit grayscale: RGB by luminance, alpha flattened onto
 * black. sharp is loaded on first use so this module stays usable where
 * sharp is not (a browser), given a GrayImage from elsewhere.
 *
 * @example
 * const image = await decodeImage('faces/Abdel_Aziz_Al-Hakim_00.jpg'); // a PNG named .jpg is fine
 */
export async function decodeImage(source: string | Uint8Array): Promise<GrayImage> {
  const { default: sharp } = await import('sharp');
  const file = typeof source === 'string' ? source : undefined;
  try {
    const { data, info } = await sharp(source, { failOn: 'error' })
      .flatten({ background: '#000000' })
      .grayscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`decoded to ${info.channels} channels`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (error) {
    throw new DataFormatError(
      `cannot decode image: ${(error as Error).message} (expected a PNG or JPEG file)`,
      {
        file,
      },
    );
  }
}

/** Taps of a 1-D resampling: for output index o, source indices and weights. */
interface Taps {
  index: Int32Array[];
  weight: Float32Array[];
}

/**
 * Resampling weights along one axis for a box whose first pixel is `first`
 * and a source step `k` per output pixel. Shrinking (k >= 1) averages the source pixels
 * under each output pixel by area; enlarging interpolates linearly. Indices
 * outside 0..length-1 are clamped ('edge') or get -1 ('zero').
 */
function axisTaps(
  first: number,
  k: number,
  length: number,
  padding: 'edge' | 'zero',
  outSize: number = IMAGE_SIZE,
): Taps {
  // The box's edge, where output pixel 0 begins: the same place pointsToFrame maps to -0.5.
  const start = first - PIXEL_EDGE;
  const index: Int32Array[] = [];
  const weight: Float32Array[] = [];
  const place = (i: number) =>
    i >= 0 && i < length ? i : padding === 'edge' ? Math.min(length - 1, Math.max(0, i)) : -1;
  for (let o = 0; o < outSize; o++) {
    const is: number[] = [];
    const ws: number[] = [];
    if (k >= 1) {
      // Output pixel o covers source [a, b]; source pixel i covers [i - 0.5, i + 0.5].
      const a = start + o * k;
      const b = a + k;
      for (let i = Math.round(a); i - PIXEL_EDGE < b; i++) {
        const overlap = Math.min(b, i + PIXEL_EDGE) - Math.max(a, i - PIXEL_EDGE);
        if (overlap > 0) {
          is.push(place(i));
          ws.push(overlap / k);
        }
      }
    } else {
      const centre = start + (o + 0.5) * k;
      const i0 = Math.floor(centre);
      const f = centre - i0;
      is.push(place(i0), place(i0 + 1));
      ws.push(1 - f, f);
    }
    index.push(Int32Array.from(is));
    weight.push(Float32Array.from(ws));
  }
  return { index, weight };
}

/**
 * The box of a wider crop around `box`: the same centre and scale, `size`
 * pixels wide instead of 96, so `box`'s 96x96 frame is its central window
 * (offset (size - 96) / 2). What augmentation samples from.
 *
 * @example
 * const wide = cropToFrame(image, contextBox(box, 128), { size: 128 }); // frame = wide's centre
 */
export function contextBox(box: CropBox, size: number): CropBox {
  if (!Number.isInteger(size) || size < IMAGE_SIZE || (size - IMAGE_SIZE) % 2 !== 0) {
    throw new ConfigError(
      `context size must be a whole number >= ${IMAGE_SIZE} with an even margin, got ${size}`,
    );
  }
  const k = box.size / IMAGE_SIZE;
  const margin = ((size - IMAGE_SIZE) / 2) * k;
  return { x: box.x - margin, y: box.y - margin, size: box.size + 2 * margin };
}

/**
 * Crops the box out of the image and resizes it to the 96x96 frame (or
 * `size` x `size`), values in [0, 1]. Outside the image, pixels repeat the
 * nearest edge ('edge', the default) or are black ('zero').
 *
 * @example
 * const frame = cropToFrame(await decodeImage(path), faceCropBox(points));
 */
export function cropToFrame(
  image: GrayImage,
  box: CropBox,
  options: { padding?: 'edge' | 'zero'; size?: number } = {},
): Float32Array {
  if (!(box.size > 0)) throw new ConfigError(`crop box size must be positive, got ${box.size}`);
  if (image.data.length !== image.width * image.height) {
    throw new ConfigError(
      `image data has ${image.data.length} values, expected ${image.width}x${image.height}`,
    );
  }
  const padding = options.padding ?? 'edge';
  const side = options.size ?? IMAGE_SIZE;
  const k = box.size / side;
  const xs = axisTaps(box.x, k, image.width, padding, side);
  const ys = axisTaps(box.y, k, image.height, padding, side);
  // Each source row needed is resampled horizontally once.
  const rows = new Map<number, Float32Array>();
  const rowAt = (sy: number): Float32Array => {
    let row = rows.get(sy);
    if (row) return row;
    row = new Float32Array(side);
    const base = sy * image.width;
    for (let o = 0; o < side; o++) {
      const idx = xs.index[o];
      const w = xs.weight[o];
      let sum = 0;
      for (let t = 0; t < idx.length; t++) if (idx[t] >= 0) sum += w[t] * image.data[base + idx[t]];
      row[o] = sum;
    }
    rows.set(sy, row);
    return row;
  };
  const out = new Float32Array(side * side);
  for (let oy = 0; oy < side; oy++) {
    const idx = ys.index[oy];
    const w = ys.weight[oy];
    const target = oy * side;
    for (let t = 0; t < idx.length; t++) {
      if (idx[t] < 0) continue;
      const row = rowAt(idx[t]);
      for (let o = 0; o < side; o++) out[target + o] += w[t] * row[o];
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i] / PIXEL_MAX));
  return out;
}

/**
 * Whether a box covers any pixel of a `width` x `height` image; a box wholly
 * outside would crop nothing but padding.
 *
 * @example
 * boxOverlapsImage({ x: 500, y: 0, size: 50 }, 200, 200); // false
 */
export function boxOverlapsImage(box: CropBox, width: number, height: number): boolean {
  return box.x < width && box.y < height && box.x + box.size > 0 && box.y + box.size > 0;
}
