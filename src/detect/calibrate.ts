/**
 * Fitting a detector's crop calibration on labelled images: run the
 * detector on every image, pair each labelled face with its detection
 * (IoU > 0.2 with the landmarks' box) and fit the map to the crop rule's box.
 */
import { join } from 'node:path';

import { faceCropBox } from '../data/crop.js';
import { landmarkRecords } from '../data/import/import-landmarks.js';
import { decodePhoto } from '../data/photo.js';
import { landmarkBox, matchDetection } from '../eval/face-matching.js';
import { type CropCalibration, fitCropCalibration } from './calibration.js';
import type { FaceDetector } from './face-detector.js';

export interface CalibrateOptions {
  imagesDir: string;
  /** Landmark CSV (Udacity layout), or `ptsDir`. */
  csvPath?: string;
  ptsDir?: string;
  /** Called after each image. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * @returns the fitted calibration and how many labelled faces the detector found
 * @example
 * const { calibration } = await calibrateDetector(await loadBlazeFace(), {
 *   imagesDir: 'udacity/training', csvPath: 'udacity/training_frames_keypoints.csv',
 * });
 */
export async function calibrateDetector(
  detector: FaceDetector,
  options: CalibrateOptions,
): Promise<{ calibration: CropCalibration; images: number; detected: number }> {
  const records = await landmarkRecords(options);
  const pairs: Parameters<typeof fitCropCalibration>[0][number][] = [];
  for (const [i, record] of records.entries()) {
    const photo = await decodePhoto(join(options.imagesDir, record.file));
    const faces = await detector.detect(photo.rgb);
    const match = matchDetection(
      faces.map((f) => f.box),
      landmarkBox(record.points),
    );
    if (match >= 0) pairs.push({ box: faces[match].box, crop: faceCropBox(record.points) });
    options.onProgress?.(i + 1, records.length);
  }
  const calibration = fitCropCalibration(pairs, {
    detector: detector.name,
    fittedOn: options.csvPath ?? options.ptsDir ?? options.imagesDir,
  });
  return { calibration, images: records.length, detected: pairs.length };
}
