/**
 * BlazeFace's anchors and the decoding of its raw outputs (MediaPipe's
 * SSD-style layout, as shipped in `@vladmandic/human`'s `blazeface.json`):
 * for a 256x256 input, a 16x16 grid of stride 16 with 2 anchors a cell
 * (512) and an 8x8 grid of stride 32 with 6 anchors a cell (384). Each
 * anchor's 16 regressors are the box centre's offset from the anchor, the
 * box width and height, then 6 landmarks' offsets, all in input pixels; its
 * one classifier output is a logit. Pure functions, no tfjs: the tests check
 * them directly.
 */

/** The model's input side, in pixels. */
export const BLAZEFACE_INPUT_SIZE = 256;

/** Regressor values per anchor: centre offset (2), size (2), 6 landmarks (12). */
export const BLAZEFACE_REGRESSORS = 16;

/** Coarse landmarks BlazeFace outputs: the eyes, nose tip, mouth centre and both ear tragions. */
export const BLAZEFACE_LANDMARKS = 6;

/** One grid of anchors: its stride in input pixels and anchors per cell. */
interface AnchorLayer {
  stride: number;
  perCell: number;
}

const LAYERS: readonly AnchorLayer[] = [
  { stride: 16, perCell: 2 },
  { stride: 32, perCell: 6 },
];

/**
 * Anchor centres (x, y pairs, input pixels) in output order: the stride-16
 * grid first, row by row, then the stride-32 grid.
 *
 * @example
 * blazeFaceAnchors().length; // 896 * 2
 */
export function blazeFaceAnchors(inputSize = BLAZEFACE_INPUT_SIZE): Float32Array {
  const out: number[] = [];
  for (const { stride, perCell } of LAYERS) {
    const cells = Math.ceil(inputSize / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < perCell; n++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return Float32Array.from(out);
}

/**
 * Boxes of every anchor as [y1, x1, y2, x2] rows in input pixels (the order
 * `tf.image.nonMaxSuppression` reads), and their landmarks.
 *
 * @param regressors `anchors * 16` values in the anchors' order
 * @example
 * const { boxes } = decodeBlazeFace(regressors, blazeFaceAnchors());
 */
export function decodeBlazeFace(
  regressors: Float32Array,
  anchors: Float32Array,
): { boxes: Float32Array; landmarks: Float32Array } {
  const count = anchors.length / 2;
  if (regressors.length !== count * BLAZEFACE_REGRESSORS) {
    throw new RangeError(`expected ${count * BLAZEFACE_REGRESSORS} regressors, got ${regressors.length}`);
  }
  const boxes = new Float32Array(count * 4);
  const landmarks = new Float32Array(count * BLAZEFACE_LANDMARKS * 2);
  for (let i = 0; i < count; i++) {
    const r = i * BLAZEFACE_REGRESSORS;
    const ax = anchors[2 * i];
    const ay = anchors[2 * i + 1];
    const cx = ax + regressors[r];
    const cy = ay + regressors[r + 1];
    const hw = regressors[r + 2] / 2;
    const hh = regressors[r + 3] / 2;
    boxes.set([cy - hh, cx - hw, cy + hh, cx + hw], i * 4);
    for (let k = 0; k < BLAZEFACE_LANDMARKS; k++) {
      landmarks[(i * BLAZEFACE_LANDMARKS + k) * 2] = ax + regressors[r + 4 + 2 * k];
      landmarks[(i * BLAZEFACE_LANDMARKS + k) * 2 + 1] = ay + regressors[r + 5 + 2 * k];
    }
  }
  return { boxes, landmarks };
}

/** The logistic function, for the classifier's logits. */
export function sigmoid(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}
