/**
 * Moves tensors between the engine boundary's layouts (`nn/spec.ts`: NCHW
 * images, conv W [out, in, kh, kw], flatten in C, H, W order) and the layouts
 * tfjs computes in (NHWC images, conv W [kh, kw, in, out]). Every transpose
 * the engine makes lives here, so the two conventions meet in one place.
 */
import * as tf from '@tensorflow/tfjs';

/** Boundary conv W [out, in, kh, kw] -> tfjs [kh, kw, in, out]. */
const CONV_W_TO_TFJS = [2, 3, 1, 0];
/** tfjs conv W [kh, kw, in, out] -> boundary [out, in, kh, kw]. */
const CONV_W_TO_BOUNDARY = [3, 2, 0, 1];

/** A parameter as the boundary gives it, in the layout tfjs computes with. */
export function paramToTfjs(shape: readonly number[], data: Float32Array): tf.Tensor {
  const t = tf.tensor(data, [...shape], 'float32');
  if (shape.length !== 4) return t;
  const out = tf.transpose(t, CONV_W_TO_TFJS);
  t.dispose();
  return out;
}

/** The boundary shape of a parameter held in tfjs layout. */
export function paramShapeInTfjs(shape: readonly number[]): number[] {
  return shape.length === 4 ? CONV_W_TO_TFJS.map((axis) => shape[axis]) : [...shape];
}

/** A parameter (or its gradient, or velocity) in tfjs layout, back in the boundary layout. */
export function paramToBoundary(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, CONV_W_TO_BOUNDARY) : tf.clone(t);
}

/**
 * A batch of `n` samples from the boundary: images [n, C, H, W] become NHWC,
 * flat inputs stay [n, features].
 */
export function inputToTfjs(x: Float32Array, n: number, inputShape: readonly number[]): tf.Tensor {
  if (inputShape.length !== 3) return tf.tensor2d(x, [n, inputShape[0]]);
  const [c, h, w] = inputShape;
  // One channel: NCHW and NHWC hold the same bytes, no transpose needed.
  if (c === 1) return tf.tensor4d(x, [n, h, w, 1]);
  return tf.tidy(() => tf.transpose(tf.tensor4d(x, [n, c, h, w]), [0, 2, 3, 1]));
}

/** NCHW-ordered values of an activation of internal shape `shape` (NHWC or flat), as a tensor in that shape. */
export function nchwValuesToTfjs(values: Float32Array, shape: readonly number[]): tf.Tensor {
  if (shape.length !== 4) return tf.tensor(values, [...shape]);
  const [n, h, w, c] = shape;
  if (c === 1) return tf.tensor4d(values, [n, h, w, c]);
  return tf.tidy(() => tf.transpose(tf.tensor4d(values, [n, c, h, w]), [0, 2, 3, 1]));
}

/** Flattens an activation for a dense layer in C, H, W order, as the boundary's dense W expects. */
export function flattenChw(t: tf.Tensor): tf.Tensor2D {
  if (t.rank === 2) return t as tf.Tensor2D;
  const [n, h, w, c] = t.shape;
  if (c === 1 || (h === 1 && w === 1)) return tf.reshape(t, [n, h * w * c]);
  return tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [n, c * h * w]);
}
