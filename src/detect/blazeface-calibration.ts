/**
 * BlazeFace's crop calibration, fitted on the 3075 labelled faces of the
 * shared Udacity training folder (3074 detected) by
 *
 *   node --import tsx bench/calibrate-detector.ts ../shared/data/udacity/training ../shared/data/udacity/training_frames_keypoints.csv
 *
 * Its residual (root-mean-square, fractions of the crop size: centre x 2.2 %,
 * y 3.1 %, size 7.4 %) is matched in training by
 * `import --jitter --jitter-shift 0.053 --jitter-scale 0.127` (`matchingJitter`).
 */
import type { CropCalibration } from './calibration.js';

/** The default map from a BlazeFace box to the crop rule's box. */
export const BLAZEFACE_CALIBRATION: CropCalibration = {
  detector: 'blazeface (@vladmandic/human 3.3.6)',
  offsetX: 0.011491,
  offsetY: 0.069386,
  scale: 1.40085,
  residual: { x: 0.02156, y: 0.0308, size: 0.07357 },
  faces: 3074,
  fittedOn: 'udacity/training_frames_keypoints.csv (3075 faces)',
};
