/**
 * The losses of `nn/loss.ts` in float64, written from the formulas in its
 * doc comment: the mean of an elementwise f(prediction - target) over the
 * targets that are present (not NaN), and the gradient of that mean with
 * respect to every prediction (0 for missing targets).
 */
import { resolveLoss, type LossSpec, type ResolvedLoss } from '../../src/nn/loss.js';

/**
 * Every loss, with parameters at which random errors of these tests' nets
 * (predictions and targets of order 1) fall on both sides of every join.
 */
export const LOSS_CASES: LossSpec[] = [
  { kind: 'mse' },
  { kind: 'l1' },
  { kind: 'smooth-l1', beta: 0.8 },
  { kind: 'wing', w: 0.8, epsilon: 0.2 },
];

/** f(d) of one error. */
export function lossOfError(loss: ResolvedLoss, d: number): number {
  const a = Math.abs(d);
  switch (loss.kind) {
    case 'mse':
      return d * d;
    case 'l1':
      return a;
    case 'smooth-l1':
      return a < loss.beta ? (0.5 * d * d) / loss.beta : a - 0.5 * loss.beta;
    case 'wing': {
      const c = loss.w - loss.w * Math.log(1 + loss.w / loss.epsilon);
      return a < loss.w ? loss.w * Math.log(1 + a / loss.epsilon) : a - c;
    }
  }
}

/** f'(d) of one error (sign(0) = 0). */
export function lossSlope(loss: ResolvedLoss, d: number): number {
  const a = Math.abs(d);
  const sign = Math.sign(d);
  switch (loss.kind) {
    case 'mse':
      return 2 * d;
    case 'l1':
      return sign;
    case 'smooth-l1':
      return a < loss.beta ? d / loss.beta : sign;
    case 'wing':
      return a < loss.w ? (sign * loss.w) / (loss.epsilon + a) : sign;
  }
}

function present(y: Float32Array): number {
  let count = 0;
  for (let i = 0; i < y.length; i++) if (!Number.isNaN(y[i])) count++;
  return count;
}

/** The masked mean loss of predictions against targets (NaN = missing), 0 when none is present. */
export function referenceLossValue(
  spec: LossSpec | undefined,
  pred: ArrayLike<number>,
  y: Float32Array,
): number {
  const loss = resolveLoss(spec);
  let sum = 0;
  for (let i = 0; i < y.length; i++) if (!Number.isNaN(y[i])) sum += lossOfError(loss, pred[i] - y[i]);
  const count = present(y);
  return count === 0 ? 0 : sum / count;
}

/** d loss / d prediction for every prediction. */
export function referenceLossGradient(
  spec: LossSpec | undefined,
  pred: ArrayLike<number>,
  y: Float32Array,
): Float64Array {
  const loss = resolveLoss(spec);
  const count = present(y);
  const grad = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    grad[i] = Number.isNaN(y[i]) || count === 0 ? 0 : lossSlope(loss, pred[i] - y[i]) / count;
  }
  return grad;
}
