/**
 * `predictPhoto`: keypoints of every face in a photo. Each face the detector
 * finds is cropped by the calibrated map from its box to the crop rule's box
 * (src/detect/calibration.ts), run through the keypoint net in one batch, and
 * its points mapped back to the photo's pixels. A given box skips detection.
 */
import { type CropBox, cropToFrame, pointsFromFrame } from '../data/crop.js';
import { IMAGE_SIZE, unscaleTarget } from '../data/scaling.js';
import { BLAZEFACE_CALIBRATION } from '../detect/blazeface-calibration.js';
import { type CropCalibration, calibratedCropBox } from '../detect/calibration.js';
import { type PhotoSource, defaultFaceDetector, toPhoto } from '../detect/detect-faces.js';
import type { DetectOptions, FaceBox, FaceDetector } from '../detect/face-detector.js';
import type { Predictor } from './predictor.js';

/** One face of a photo and its keypoints. */
export interface PhotoFace {
  /** 0-based, in the order faces were found (highest detector score first). */
  index: number;
  /** The detector's score, or null for a given box. */
  score: number | null;
  /** The detector's box (or the given box), in photo pixels. */
  box: FaceBox;
  /** The square the net saw. */
  crop: CropBox;
  /** x, y pairs in the predictor's column order, in the upright photo's pixels. */
  points: Float64Array;
}

/** The faces of one photo. */
export interface PhotoPrediction {
  width: number;
  height: number;
  faces: PhotoFace[];
}

export interface PredictPhotoOptions extends DetectOptions {
  /** Detector to use (default: BlazeFace, shared). */
  detector?: FaceDetector;
  /** Detector box -> crop map (default: BLAZEFACE_CALIBRATION). */
  calibration?: CropCalibration;
  /** A crop box to use instead of detecting (the net sees exactly this square). */
  box?: CropBox;
}

/**
 * @param model a loaded predictor (`loadPredictor`)
 * @param image a file path, encoded bytes or a decoded photo; EXIF orientation is applied
 * @returns no faces (never invented points) when the detector finds none
 * @example
 * import { loadPredictor, predictPhoto } from 'facepoints';
 * const model = await loadPredictor('runs/net5/model-best.fpm');
 * const { faces } = await predictPhoto(model, 'group.jpg', { minFace: 40, maxFaces: 10 });
 * for (const f of faces) console.log(f.index, f.score, f.points.length / 2, 'points');
 */
export async function predictPhoto(
  model: Predictor,
  image: PhotoSource,
  options: PredictPhotoOptions = {},
): Promise<PhotoPrediction> {
  const photo = await toPhoto(image);
  let found: { box: FaceBox; score: number | null; crop: CropBox }[];
  if (options.box) {
    const b = options.box;
    found = [{ box: { x: b.x, y: b.y, width: b.size, height: b.size }, score: null, crop: b }];
  } else {
    const detector = options.detector ?? (await defaultFaceDetector());
    const calibration = options.calibration ?? BLAZEFACE_CALIBRATION;
    const detections = await detector.detect(photo.rgb, options);
    found = detections.map((d) => ({
      box: d.box,
      score: d.score,
      crop: calibratedCropBox(d.box, calibration),
    }));
  }
  const pixels = IMAGE_SIZE * IMAGE_SIZE;
  const outputs = model.columns.length;
  const faces: PhotoFace[] = [];
  if (found.length > 0) {
    const frames = new Float32Array(found.length * pixels);
    found.forEach((f, i) => frames.set(cropToFrame(photo.gray, f.crop), i * pixels));
    const predictions = await model.predict(frames);
    found.forEach((f, i) => {
      const frame = Array.from(predictions.subarray(i * outputs, (i + 1) * outputs), unscaleTarget);
      faces.push({
        index: i,
        score: f.score,
        box: f.box,
        crop: f.crop,
        points: pointsFromFrame(frame, f.crop),
      });
    });
  }
  return { width: photo.width, height: photo.height, faces };
}
