/**
 * The photometric part of augmentation, on a 96x96 frame of values in
 * [0, 1]: a small blur, gamma, contrast and brightness through one lookup
 * table, and Gaussian noise read from a fixed table. None of them moves a
 * keypoint.
 */
import { IMAGE_SIZE } from '../data/scaling.js';
import { Rng } from '../random/rng.js';

/** One sample's photometric changes. */
export interface PhotometricParams {
  /** Weight of each neighbour in a separable 3-tap blur [w, 1 - 2w, w]; 0: none. */
  blur: number;
  /** v -> v ** gamma. */
  gamma: number;
  /** (v - 0.5) * contrast + 0.5. */
  contrast: number;
  /** Added last. */
  brightness: number;
  /** Standard deviation of the added Gaussian noise. */
  noise: number;
  /** Where the noise starts in the noise table, and its stride (odd). */
  noiseStart: number;
  noiseStride: number;
}

/** Nothing changes. */
export const NO_PHOTOMETRIC: PhotometricParams = {
  blur: 0,
  gamma: 1,
  contrast: 1,
  brightness: 0,
  noise: 0,
  noiseStart: 0,
  noiseStride: 1,
};

const NOISE_TABLE_SIZE = 1 << 14; // more than 96 * 96, so no frame repeats a value pattern
let noiseTable: Float32Array | undefined;

/** Standard normal values, the same on every run (seeded). */
function normals(): Float32Array {
  if (!noiseTable) {
    const rng = new Rng(0x5eed, 'augment-noise-table');
    noiseTable = Float32Array.from({ length: NOISE_TABLE_SIZE }, () => rng.normal());
  }
  return noiseTable;
}

const LUT_SIZE = 256;
const scratch = new Float32Array(IMAGE_SIZE * IMAGE_SIZE);

/** Separable 3-tap blur [w, 1 - 2w, w] with edge repeat, in place. */
export function blur3(frame: Float32Array, w: number): void {
  const n = IMAGE_SIZE;
  const centre = 1 - 2 * w;
  for (let y = 0; y < n; y++) {
    const r = y * n;
    for (let x = 0; x < n; x++) {
      const left = frame[r + (x > 0 ? x - 1 : 0)];
      const right = frame[r + (x < n - 1 ? x + 1 : n - 1)];
      scratch[r + x] = centre * frame[r + x] + w * (left + right);
    }
  }
  for (let y = 0; y < n; y++) {
    const up = (y > 0 ? y - 1 : 0) * n;
    const down = (y < n - 1 ? y + 1 : n - 1) * n;
    const r = y * n;
    for (let x = 0; x < n; x++)
      frame[r + x] = centre * scratch[r + x] + w * (scratch[up + x] + scratch[down + x]);
  }
}

/**
 * Applies blur, then gamma / contrast / brightness (one lookup table with
 * linear interpolation), then noise, and clips to [0, 1], in place.
 *
 * @example
 * applyPhotometric(frame, { ...NO_PHOTOMETRIC, gamma: 0.8, brightness: 0.05 });
 */
export function applyPhotometric(frame: Float32Array, p: PhotometricParams): void {
  if (p.blur > 0) blur3(frame, p.blur);
  const n = frame.length;
  const tonal = p.gamma !== 1 || p.contrast !== 1 || p.brightness !== 0;
  const lut = tonalTable(tonal ? p.gamma : 1, tonal ? p.contrast : 1, tonal ? p.brightness : 0);
  const top = LUT_SIZE - 1;
  const noise = p.noise;
  const table = normals();
  const mask = NOISE_TABLE_SIZE - 1;
  const stride = p.noiseStride | 1;
  // One pass: clip, tone curve (identity table when there is none), noise, clip.
  for (let i = 0, at = p.noiseStart & mask; i < n; i++, at = (at + stride) & mask) {
    const v = frame[i];
    const pos = (v < 0 ? 0 : v > 1 ? 1 : v) * top;
    let k = pos | 0;
    if (k > top - 1) k = top - 1;
    const w = lut[k] + (pos - k) * (lut[k + 1] - lut[k]) + noise * table[at];
    frame[i] = w < 0 ? 0 : w > 1 ? 1 : w;
  }
}

const lutScratch = new Float32Array(LUT_SIZE);

/** v -> (v ** gamma - 0.5) * contrast + 0.5 + brightness at LUT_SIZE points of [0, 1]. */
function tonalTable(gamma: number, contrast: number, brightness: number): Float32Array {
  const lut = lutScratch;
  const step = 1 / (LUT_SIZE - 1);
  for (let k = 0; k < LUT_SIZE; k++) lut[k] = ((k * step) ** gamma - 0.5) * contrast + 0.5 + brightness;
  return lut;
}
