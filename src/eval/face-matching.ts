/**
 * Which detection is which labelled face: the peers' end-to-end protocol
 * counts a detection as found when it overlaps the landmarks' box by
 * IoU > 0.2 (detectors frame faces differently, so the bar is low).
 */
import { ConfigError } from '../errors.js';
import { type FaceBox, boxIou } from '../detect/face-detector.js';

/** IoU above which a detection counts as the labelled face. */
export const DETECTION_MIN_IOU = 0.2;

/**
 * The tight box of the points (x, y pairs, NaN skipped), in the boxes'
 * convention (x = first pixel: the edge lies half a pixel before the leftmost point's pixel centre).
 *
 * @example
 * const truth = landmarkBox(points68);
 */
export function landmarkBox(points: ArrayLike<number>): FaceBox {
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
  if (minX === Infinity) throw new ConfigError('landmarkBox needs at least one finite point');
  return { x: minX, y: minY, width: Math.max(maxX - minX, 1), height: Math.max(maxY - minY, 1) };
}

/**
 * Index of the box that overlaps `truth` most, if by more than `minIou`; -1 when none does.
 *
 * @example
 * const i = matchDetection(faces.map((f) => f.box), landmarkBox(points)); // -1: missed
 */
export function matchDetection(
  boxes: readonly FaceBox[],
  truth: FaceBox,
  minIou = DETECTION_MIN_IOU,
): number {
  let best = -1;
  let bestIou = minIou;
  boxes.forEach((box, i) => {
    const iou = boxIou(box, truth);
    if (iou > bestIou) {
      best = i;
      bestIou = iou;
    }
  });
  return best;
}
