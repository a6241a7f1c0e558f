/**
 * Per-face NME for the 68-point markup, the figures face-landmark papers
 * report: each face's mean point-to-point error over the distance between
 * the outer eye corners (300-W's "inter-ocular" normalisation), its median
 * and failure rate over faces, and the same error per face region.
 */
import { ibug68 } from '../data/schemas.js';
import { ConfigError } from '../errors.js';

/** The regions of the 68 points (0-based index ranges, inclusive). */
export const IBUG68_REGIONS: Readonly<Record<string, readonly [number, number]>> = {
  jaw: [0, 16],
  brows: [17, 26],
  nose: [27, 35],
  eyes: [36, 47],
  mouth: [48, 67],
};

/** A face counts as failed above this NME (the common 0.10 threshold). */
export const FAILURE_NME = 0.1;

const RIGHT_OUTER = ibug68.keypoints.indexOf('right_eye_outer_corner'); // 36
const LEFT_OUTER = ibug68.keypoints.indexOf('left_eye_outer_corner'); // 45

export interface LandmarkNme {
  faces: number;
  /** Mean over faces of each face's NME. */
  nme: number;
  median: number;
  /** Fraction of faces with NME > FAILURE_NME. */
  failureRate: number;
  /** Mean NME per region (mean error over the region's points / eye-corner distance). */
  regions: Record<string, number>;
  /** Each face's NME, in order. */
  perFace: Float64Array;
}

/** Outer eye corner distance of one face's 136 values (x, y per point). */
export function eyeCornerDistance(points: ArrayLike<number>, offset = 0): number {
  const dx = points[offset + 2 * LEFT_OUTER] - points[offset + 2 * RIGHT_OUTER];
  const dy = points[offset + 2 * LEFT_OUTER + 1] - points[offset + 2 * RIGHT_OUTER + 1];
  return Math.hypot(dx, dy);
}

/**
 * @param predicted `count * 136` points in any one pixel unit (x, y per point, iBUG order)
 * @param labels the same layout, same unit; faces with a missing label point are refused
 * @example
 * const m = landmarkNme(predictedPixels, labelPixels, count);
 * console.log(m.nme, m.median, m.failureRate, m.regions.jaw);
 */
export function landmarkNme(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  count: number,
): LandmarkNme {
  const width = ibug68.columns.length;
  if (predicted.length !== count * width || labels.length !== count * width) {
    throw new ConfigError(`landmarkNme: expected ${count} faces of ${width} values each`);
  }
  const perFace = new Float64Array(count);
  const regionSums = Object.fromEntries(Object.keys(IBUG68_REGIONS).map((k) => [k, 0]));
  for (let f = 0; f < count; f++) {
    const base = f * width;
    const iod = eyeCornerDistance(labels, base);
    if (!(iod > 0)) throw new ConfigError(`face ${f}: no outer eye corners to normalise by`);
    const errors = new Float64Array(68);
    for (let p = 0; p < 68; p++) {
      const e = Math.hypot(
        predicted[base + 2 * p] - labels[base + 2 * p],
        predicted[base + 2 * p + 1] - labels[base + 2 * p + 1],
      );
      if (Number.isNaN(e)) throw new ConfigError(`face ${f}: point ${p} is missing`);
      errors[p] = e / iod;
    }
    perFace[f] = errors.reduce((a, b) => a + b, 0) / 68;
    for (const [name, [from, to]] of Object.entries(IBUG68_REGIONS)) {
      let s = 0;
      for (let p = from; p <= to; p++) s += errors[p];
      regionSums[name] += s / (to - from + 1);
    }
  }
  const sorted = Float64Array.from(perFace).sort();
  const mid = count >> 1;
  return {
    faces: count,
    nme: perFace.reduce((a, b) => a + b, 0) / count,
    median: count % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    failureRate: perFace.filter((v) => v > FAILURE_NME).length / count,
    regions: Object.fromEntries(Object.entries(regionSums).map(([k, v]) => [k, v / count])),
    perFace,
  };
}

/**
 * The mean offset of predictions from labels in units of each face's
 * eye-corner distance (measured on the predictions, so applying it needs no
 * label): what a peer trained on another labelling convention is off by.
 *
 * @example
 * const offset = fitMeanOffset(peerOnTrain, labelsOfTrain, nTrain);
 * const calibrated = applyMeanOffset(peerOnValid, nValid, offset);
 */
export function fitMeanOffset(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  count: number,
): [number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let f = 0; f < count; f++) {
    const base = f * 136;
    const iod = eyeCornerDistance(predicted, base);
    for (let p = 0; p < 68; p++) {
      const dx = (labels[base + 2 * p] - predicted[base + 2 * p]) / iod;
      const dy = (labels[base + 2 * p + 1] - predicted[base + 2 * p + 1]) / iod;
      if (Number.isNaN(dx) || Number.isNaN(dy)) continue;
      sx += dx;
      sy += dy;
      n++;
    }
  }
  return [sx / n, sy / n];
}

/** Predictions moved by a mean offset (from `fitMeanOffset`), in a new array. */
export function applyMeanOffset(
  predicted: ArrayLike<number>,
  count: number,
  [ox, oy]: [number, number],
): Float64Array {
  const out = Float64Array.from(predicted);
  for (let f = 0; f < count; f++) {
    const base = f * 136;
    const iod = eyeCornerDistance(predicted, base);
    for (let p = 0; p < 68; p++) {
      out[base + 2 * p] += ox * iod;
      out[base + 2 * p + 1] += oy * iod;
    }
  }
  return out;
}
