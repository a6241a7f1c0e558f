/**
 * Keypoint errors in pixels of the 96x96 frame: RMSE over all coordinates
 * (the tutorial's number, sqrt(MSE) * 48), RMSE and mean distance per
 * keypoint, and NME: each face's mean point distance divided by its
 * inter-ocular distance (between the eye centres for kaggle15, the outer eye
 * corners for ibug68, as in 300-W), averaged over faces.
 */
import type { KeypointSchema } from '../data/schemas.js';
import { TARGET_SCALE } from '../data/scaling.js';
import { ConfigError } from '../errors.js';

/** The two keypoints whose distance normalises NME, per schema. */
export const NME_NORMALISER: Record<string, { keypoints: [string, string]; name: string }> = {
  kaggle15: { keypoints: ['left_eye_center', 'right_eye_center'], name: 'eye centres' },
  ibug68: { keypoints: ['left_eye_outer_corner', 'right_eye_outer_corner'], name: 'outer eye corners' },
};

export interface KeypointError {
  keypoint: string;
  /** sqrt(mean of (dx^2 + dy^2) / 2) over faces where the keypoint is labelled, in pixels. */
  rmsePx: number;
  /** Mean Euclidean distance, in pixels. */
  meanErrorPx: number;
  /** Faces where the keypoint is labelled. */
  count: number;
}

export interface KeypointMetrics {
  faces: number;
  /** RMSE over every labelled coordinate, in pixels. */
  rmsePx: number;
  /** Masked MSE in scaled units (the training loss). */
  mse: number;
  perKeypoint: KeypointError[];
  /** Mean normalised error, or null when no face has both normalising points labelled. */
  nme: number | null;
  nmeNormaliser: string;
  nmeFaces: number;
}

/**
 * @param predictions scaled predictions, `count * columns.length`, in `columns` order
 * @param labels scaled labels of the whole schema, `count * schema.columns.length`, NaN = missing
 * @param columns the target columns the predictions hold (x, y pairs of keypoints)
 * @example
 * const m = keypointMetrics({ predictions, labels: dataset.targets, count, columns, schema: dataset.schema });
 * console.log(m.rmsePx, m.nme);
 */
export function keypointMetrics(input: {
  predictions: Float32Array;
  labels: Float32Array;
  count: number;
  columns: readonly string[];
  schema: KeypointSchema;
}): KeypointMetrics {
  const { predictions, labels, count, columns, schema } = input;
  const width = schema.columns.length;
  const outputs = columns.length;
  if (predictions.length !== count * outputs || labels.length !== count * width) {
    throw new ConfigError(
      `metrics: ${count} faces need ${count * outputs} predictions and ${count * width} labels`,
    );
  }
  const labelColumn = columns.map((c) => {
    const i = schema.columns.indexOf(c);
    if (i < 0)
      throw new ConfigError(`the model predicts "${c}", which the ${schema.name} data does not have`);
    return i;
  });
  // Keypoints of the prediction: each x column followed by its y column.
  const keypoints: { name: string; px: number; py: number; lx: number; ly: number }[] = [];
  for (let c = 0; c + 1 < outputs; c += 2) {
    if (!columns[c].endsWith('_x') || columns[c + 1] !== `${columns[c].slice(0, -2)}_y`) {
      throw new ConfigError(`columns must come as x, y pairs; got ${columns[c]}, ${columns[c + 1]}`);
    }
    keypoints.push({
      name: columns[c].slice(0, -2),
      px: c,
      py: c + 1,
      lx: labelColumn[c],
      ly: labelColumn[c + 1],
    });
  }
  const normaliser = NME_NORMALISER[schema.name];
  const eyeA = schema.keypoints.indexOf(normaliser.keypoints[0]);
  const eyeB = schema.keypoints.indexOf(normaliser.keypoints[1]);

  let squared = 0;
  let present = 0;
  const sq = new Float64Array(keypoints.length);
  const dist = new Float64Array(keypoints.length);
  const seen = new Int32Array(keypoints.length);
  let nmeSum = 0;
  let nmeFaces = 0;
  for (let r = 0; r < count; r++) {
    const p = (c: number) => predictions[r * outputs + c];
    const l = (c: number) => labels[r * width + c];
    for (let c = 0; c < outputs; c++) {
      const d = p(c) - l(labelColumn[c]);
      if (!Number.isNaN(d)) {
        squared += d * d;
        present++;
      }
    }
    let faceSum = 0;
    let facePoints = 0;
    keypoints.forEach((k, i) => {
      const dx = (p(k.px) - l(k.lx)) * TARGET_SCALE;
      const dy = (p(k.py) - l(k.ly)) * TARGET_SCALE;
      if (Number.isNaN(dx) || Number.isNaN(dy)) return;
      const d = Math.hypot(dx, dy);
      sq[i] += (dx * dx + dy * dy) / 2;
      dist[i] += d;
      seen[i]++;
      faceSum += d;
      facePoints++;
    });
    const iod = Math.hypot(l(2 * eyeA) - l(2 * eyeB), l(2 * eyeA + 1) - l(2 * eyeB + 1)) * TARGET_SCALE;
    if (facePoints > 0 && iod > 0) {
      nmeSum += faceSum / facePoints / iod;
      nmeFaces++;
    }
  }
  const mse = present ? squared / present : Number.NaN;
  return {
    faces: count,
    mse,
    rmsePx: Math.sqrt(mse) * TARGET_SCALE,
    perKeypoint: keypoints.map((k, i) => ({
      keypoint: k.name,
      rmsePx: seen[i] ? Math.sqrt(sq[i] / seen[i]) : Number.NaN,
      meanErrorPx: seen[i] ? dist[i] / seen[i] : Number.NaN,
      count: seen[i],
    })),
    nme: nmeFaces ? nmeSum / nmeFaces : null,
    nmeNormaliser: normaliser.name,
    nmeFaces,
  };
}
