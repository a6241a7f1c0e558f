/**
 * End-to-end evaluation on photos, the protocol the peers (dlib, face-api)
 * are measured by: for every labelled image, detect faces, keep the
 * detection that overlaps the landmarks' box (IoU > 0.2), and measure the
 * keypoints predicted for it. Reported: the detection rate, the NME on the
 * detected faces (mean point error over the inter-ocular distance: outer eye
 * corners for ibug68, eye centres for kaggle15), and the failure rate (the
 * share of detected faces with NME > 0.10).
 */
import { join } from 'node:path';

import type { LandmarkRecord } from '../data/import/landmark-files.js';
import { type Photo, decodePhoto } from '../data/photo.js';
import { type KeypointSchema, mapIbug68ToKaggle15 } from '../data/schemas.js';
import type { FaceBox } from '../detect/face-detector.js';
import { ConfigError } from '../errors.js';
import { predictPhoto, type PredictPhotoOptions } from '../predict/predict-photo.js';
import type { Predictor } from '../predict/predictor.js';
import { DETECTION_MIN_IOU, landmarkBox, matchDetection } from './face-matching.js';
import { NME_NORMALISER } from './keypoint-metrics.js';

/** NME above which a detected face counts as a failure. */
export const FAILURE_NME = 0.1;

/** Faces found in a photo with their points (x, y pairs in the schema's keypoint order, photo pixels). */
export type PhotoKeypointer = (
  photo: Photo,
  file: string,
) => Promise<{ box: FaceBox; points: ArrayLike<number> }[]>;

/** One labelled image's outcome. */
export interface EndToEndImage {
  file: string;
  /** Faces the detector returned. */
  faces: number;
  detected: boolean;
  /** NME of the matched face, or null when it was missed. */
  nme: number | null;
}

export interface EndToEndMetrics {
  images: number;
  detected: number;
  /** detected / images. */
  detectionRate: number;
  /** Mean NME over the detected faces (null when none was). */
  nme: number | null;
  /** Share of detected faces with NME > FAILURE_NME. */
  failureRate: number | null;
  nmeNormaliser: string;
  minIou: number;
  perImage: EndToEndImage[];
}

/** NME of one face: mean point distance over the distance of the schema's two normalising keypoints. */
export function faceNme(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
  schema: KeypointSchema,
): number {
  const { keypoints } = NME_NORMALISER[schema.name];
  const a = schema.keypoints.indexOf(keypoints[0]);
  const b = schema.keypoints.indexOf(keypoints[1]);
  const norm = Math.hypot(truth[2 * a] - truth[2 * b], truth[2 * a + 1] - truth[2 * b + 1]);
  let sum = 0;
  let n = 0;
  for (let k = 0; k < schema.keypoints.length; k++) {
    const tx = truth[2 * k];
    const ty = truth[2 * k + 1];
    if (!Number.isFinite(tx) || !Number.isFinite(ty)) continue;
    sum += Math.hypot(predicted[2 * k] - tx, predicted[2 * k + 1] - ty);
    n++;
  }
  return sum / n / norm;
}

/**
 * The keypointer of a facepoints model: `predictPhoto` with its detector and calibration.
 *
 * @throws ConfigError when the model does not predict every keypoint of its schema.
 */
export function predictorKeypointer(model: Predictor, options: PredictPhotoOptions = {}): PhotoKeypointer {
  if (model.columns.join() !== model.schema.columns.join()) {
    throw new ConfigError(
      `end-to-end evaluation needs a model that predicts every ${model.schema.name} keypoint`,
    );
  }
  return async (photo) => (await predictPhoto(model, photo, options)).faces;
}

/**
 * @param records labelled images (68 points each, `landmarkRecords`), looked up in `imagesDir`
 * @param schema the keypoints the keypointer returns: ibug68, or kaggle15 (the labels are mapped)
 * @example
 * const metrics = await evaluateEndToEnd({
 *   records: await landmarkRecords({ csvPath: 'faces.csv', imagesDir: 'faces' }),
 *   imagesDir: 'faces',
 *   schema: model.schema,
 *   keypointer: predictorKeypointer(model),
 * });
 * console.log(metrics.detectionRate, metrics.nme, metrics.failureRate);
 */
export async function evaluateEndToEnd(input: {
  records: readonly LandmarkRecord[];
  imagesDir: string;
  schema: KeypointSchema;
  keypointer: PhotoKeypointer;
  minIou?: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<EndToEndMetrics> {
  const minIou = input.minIou ?? DETECTION_MIN_IOU;
  const perImage: EndToEndImage[] = [];
  for (const [i, record] of input.records.entries()) {
    const photo = await decodePhoto(join(input.imagesDir, record.file));
    const faces = await input.keypointer(photo, record.file);
    const match = matchDetection(
      faces.map((f) => f.box),
      landmarkBox(record.points),
      minIou,
    );
    const truth = input.schema.name === 'kaggle15' ? mapIbug68ToKaggle15(record.points) : record.points;
    perImage.push({
      file: record.file,
      faces: faces.length,
      detected: match >= 0,
      nme: match >= 0 ? faceNme(faces[match].points, truth, input.schema) : null,
    });
    input.onProgress?.(i + 1, input.records.length);
  }
  const nmes = perImage.flatMap((r) => (r.nme === null ? [] : [r.nme]));
  return {
    images: perImage.length,
    detected: nmes.length,
    detectionRate: perImage.length ? nmes.length / perImage.length : 0,
    nme: nmes.length ? nmes.reduce((a, b) => a + b, 0) / nmes.length : null,
    failureRate: nmes.length ? nmes.filter((v) => v > FAILURE_NME).length / nmes.length : null,
    nmeNormaliser: NME_NORMALISER[input.schema.name].name,
    minIou,
    perImage,
  };
}
