/**
 * Which detection is which labelled face: the peers' end-to-end protocol
 * counts a detection as found when it overlaps the landmarks' box by
 * IoU > 0.2 (detectors frame faces differently, so the bar is low).
 */
import { pointBounds } from '../data/crop.js';
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
  const { minX, minY, maxX, maxY } = pointBounds(points, 'landmarkBox');
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
