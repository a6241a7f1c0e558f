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

const LUT_SIZE = 1024;
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
  const tonal = p.gamma !== 1 || p.contrast !== 1 || p.brightness !== 0;
  const lut = tonal ? tonalTable(p) : undefined;
  const table = normals();
  const mask = NOISE_TABLE_SIZE - 1;
  let at = p.noiseStart & mask;
  const stride = p.noiseStride | 1;
  for (let i = 0; i < frame.length; i++) {
    let v = frame[i];
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    if (lut) {
      const pos = v * (LUT_SIZE - 1);
      const k = Math.min(LUT_SIZE - 2, Math.floor(pos));
      v = lut[k] + (pos - k) * (lut[k + 1] - lut[k]);
    }
    if (p.noise > 0) {
      v += p.noise * table[at];
      at = (at + stride) & mask;
    }
    frame[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

function tonalTable(p: PhotometricParams): Float32Array {
  const lut = new Float32Array(LUT_SIZE);
  for (let k = 0; k < LUT_SIZE; k++) {
    const v = k / (LUT_SIZE - 1);
    lut[k] = (v ** p.gamma - 0.5) * p.contrast + 0.5 + p.brightness;
  }
  return lut;
}
