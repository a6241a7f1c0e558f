/**
 * Calibrated crops: a detector's box is not the crop rule's box (the
 * landmarks' square plus margin, `faceCropBox`). The map between them is
 * fitted on training faces by least squares, in units of the detector box's
 * size so that it holds for faces of any size:
 *
 *   crop centre = box centre + (offsetX, offsetY) * s,   crop size = scale * s,
 *
 * with s = (box width + box height) / 2. Minimising the squared relative
 * residuals gives the means of the per-face offsets and size ratios; what is
 * left (the residual) is how far a calibrated crop strays from the landmark
 * crop, and training with that much crop jitter (`import --jitter-shift
 * --jitter-scale`) makes the net robust to it.
 */
import type { CropBox, CropJitter } from '../data/crop.js';
import { ConfigError } from '../errors.js';
import type { FaceBox } from './face-detector.js';

/** A fitted detector-box -> crop-box map. */
export interface CropCalibration {
  /** The detector it was fitted for. */
  detector: string;
  /** Crop centre minus box centre, in units of the box size s. */
  offsetX: number;
  offsetY: number;
  /** Crop size over s. */
  scale: number;
  /** Root-mean-square residuals after the fit, as fractions of the crop size (x and y of the centre, and the size). */
  residual: { x: number; y: number; size: number };
  /** Faces the fit used. */
  faces: number;
  /** What data it was fitted on. */
  fittedOn?: string;
}

/** The size s of a detector box the map scales by. */
export function boxSize(box: FaceBox): number {
  return (box.width + box.height) / 2;
}

/**
 * Least-squares fit of the map from pairs of (detector box, crop-rule box) of the same faces.
 *
 * @throws ConfigError with fewer than 2 pairs.
 * @example
 * const calibration = fitCropCalibration(pairs, { detector: detector.name, fittedOn: 'udacity/training' });
 */
export function fitCropCalibration(
  pairs: readonly { box: FaceBox; crop: CropBox }[],
  about: { detector: string; fittedOn?: string },
): CropCalibration {
  if (pairs.length < 2) throw new ConfigError(`a calibration needs at least 2 faces, got ${pairs.length}`);
  const rel = pairs.map(({ box, crop }) => {
    const s = boxSize(box);
    return {
      dx: (crop.x + crop.size / 2 - (box.x + box.width / 2)) / s,
      dy: (crop.y + crop.size / 2 - (box.y + box.height / 2)) / s,
      k: crop.size / s,
    };
  });
  const mean = (f: (r: (typeof rel)[number]) => number) => rel.reduce((a, r) => a + f(r), 0) / rel.length;
  const offsetX = mean((r) => r.dx);
  const offsetY = mean((r) => r.dy);
  const scale = mean((r) => r.k);
  const rms = (f: (r: (typeof rel)[number]) => number) => Math.sqrt(mean((r) => f(r) ** 2));
  return {
    detector: about.detector,
    offsetX,
    offsetY,
    scale,
    // Residuals in box units divided by the fitted scale: fractions of the crop's size.
    residual: {
      x: rms((r) => r.dx - offsetX) / scale,
      y: rms((r) => r.dy - offsetY) / scale,
      size: rms((r) => r.k - scale) / scale,
    },
    faces: pairs.length,
    ...(about.fittedOn ? { fittedOn: about.fittedOn } : {}),
  };
}

/**
 * The crop box for a detected face.
 *
 * @example
 * const crop = calibratedCropBox(face.box, BLAZEFACE_CALIBRATION);
 * const frame = cropToFrame(photo.gray, crop);
 */
export function calibratedCropBox(box: FaceBox, calibration: CropCalibration): CropBox {
  const s = boxSize(box);
  const size = calibration.scale * s;
  return {
    x: box.x + box.width / 2 + calibration.offsetX * s - size / 2,
    y: box.y + box.height / 2 + calibration.offsetY * s - size / 2,
    size,
  };
}

/**
 * Crop jitter whose spread matches the calibration's residual: `jitterBox`
 * draws uniformly in [-shift, shift] (standard deviation shift / sqrt(3)),
 * so shift = sqrt(3) * residual gives the same spread; the same for the size.
 *
 * @example
 * const { shift, scale } = matchingJitter(BLAZEFACE_CALIBRATION); // import --jitter-shift S --jitter-scale K
 */
export function matchingJitter(calibration: CropCalibration): Required<CropJitter> {
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    shift: round(Math.sqrt(3) * Math.max(calibration.residual.x, calibration.residual.y)),
    scale: round(Math.sqrt(3) * calibration.residual.size),
  };
}

/** Checks a calibration read from a file. */
export function parseCropCalibration(value: unknown, source: string): CropCalibration {
  const c = value as Partial<CropCalibration>;
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!c || !finite(c.offsetX) || !finite(c.offsetY) || !finite(c.scale) || !(c.scale! > 0)) {
    throw new ConfigError(`${source}: expected a crop calibration { offsetX, offsetY, scale > 0, ... }`);
  }
  return {
    detector: String(c.detector ?? 'unknown'),
    offsetX: c.offsetX!,
    offsetY: c.offsetY!,
    scale: c.scale!,
    residual: c.residual ?? { x: NaN, y: NaN, size: NaN },
    faces: c.faces ?? 0,
    ...(c.fittedOn ? { fittedOn: c.fittedOn } : {}),
  };
}
