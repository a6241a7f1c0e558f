/**
 * The losses of `nn/loss.ts` in tfjs ops. Each is the sum of f(d) over the
 * present targets with a hand-written gradient f'(d) (through
 * `tf.customGrad`), so its slope is the formula of `engine.ts` everywhere,
 * sign(0) = 0 included, exactly as the native engine computes it.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedLoss } from '../../nn/loss.js';

/** f(d) elementwise. */
function lossOf(loss: ResolvedLoss, d: tf.Tensor): tf.Tensor {
  switch (loss.kind) {
    case 'mse':
      return tf.square(d);
    case 'l1':
      return tf.abs(d);
    case 'smooth-l1': {
      const a = tf.abs(d);
      return tf.where(
        tf.less(a, loss.beta),
        tf.mul(tf.square(d), 0.5 / loss.beta),
        tf.sub(a, 0.5 * loss.beta),
      );
    }
    case 'wing': {
      const a = tf.abs(d);
      const c = loss.w - loss.w * Math.log(1 + loss.w / loss.epsilon);
      return tf.where(tf.less(a, loss.w), tf.mul(tf.log1p(tf.div(a, loss.epsilon)), loss.w), tf.sub(a, c));
    }
  }
}

/** f'(d) elementwise. */
function slopeOf(loss: ResolvedLoss, d: tf.Tensor): tf.Tensor {
  switch (loss.kind) {
    case 'mse':
      return tf.mul(d, 2);
    case 'l1':
      return tf.sign(d);
    case 'smooth-l1':
      return tf.where(tf.less(tf.abs(d), loss.beta), tf.div(d, loss.beta), tf.sign(d));
    case 'wing': {
      const a = tf.abs(d);
      return tf.where(
        tf.less(a, loss.w),
        tf.div(tf.mul(tf.sign(d), loss.w), tf.add(a, loss.epsilon)),
        tf.sign(d),
      );
    }
  }
}

/**
 * sum(f(pred - y) * mask) as a scalar that differentiates with respect to
 * `pred` by f'. `y` holds 0 where `mask` is 0 (missing targets).
 */
export function maskedLossSum(
  loss: ResolvedLoss,
  pred: tf.Tensor2D,
  y: tf.Tensor2D,
  mask: tf.Tensor2D,
): tf.Scalar {
  // The masked MSE as it always was (tfjs' own gradient), so default runs keep their exact numbers.
  if (loss.kind === 'mse') return tf.sum(tf.mul(tf.squaredDifference(pred, y), mask));
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const p = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const d = tf.mul(tf.sub(p, y), mask);
    save([tf.mul(slopeOf(loss, d), mask)]);
    return {
      value: tf.sum(tf.mul(lossOf(loss, d), mask)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]),
    };
  });
  return f(pred) as tf.Scalar;
}
