/**
 * Nonlinearities a layer applies to its output (Lasagne's `nonlinearity`):
 * `relu`, `linear` and `leakyRelu` (max(x, leakiness * x), Lasagne's
 * LeakyRectify, leakiness 0.01 unless given).
 */
import { ShapeError } from '../../errors.js';

export type Activation = 'relu' | 'linear' | 'leakyRelu';

export const DEFAULT_LEAKINESS = 0.01;

/** The options of a layer that has an activation. */
export interface ActivationOptions {
  activation?: Activation;
  /** Slope for x < 0 of `leakyRelu` (default 0.01); only with that activation. */
  leakiness?: number;
}

/** Resolved: both fields set; `leakiness` is 0 for relu and 1 for linear, so every activation is max(x, leakiness * x) or x. */
export interface ResolvedActivation {
  activation: Activation;
  leakiness: number;
}

export function resolveActivation(
  name: string,
  options: ActivationOptions,
  fallback: Activation,
): ResolvedActivation {
  const activation = options.activation ?? fallback;
  if (activation !== 'relu' && activation !== 'linear' && activation !== 'leakyRelu') {
    throw new ShapeError(
      name,
      `activation must be 'relu', 'leakyRelu' or 'linear', got '${String(activation)}'`,
    );
  }
  if (options.leakiness !== undefined && activation !== 'leakyRelu') {
    throw new ShapeError(
      name,
      `leakiness is an option of activation 'leakyRelu' only, not of '${activation}'`,
    );
  }
  const leakiness =
    activation === 'leakyRelu' ? (options.leakiness ?? DEFAULT_LEAKINESS) : activation === 'relu' ? 0 : 1;
  if (activation === 'leakyRelu' && !(typeof leakiness === 'number' && leakiness >= 0 && leakiness < 1)) {
    throw new ShapeError(name, `leakiness must be in [0, 1), got ${String(options.leakiness)}`);
  }
  return { activation, leakiness };
}

/** Glorot gain for weights feeding this activation: sqrt(2 / (1 + leakiness^2)) for relu and leaky relu (He), 1 for linear. */
export function activationGain(a: ResolvedActivation): number {
  if (a.activation === 'linear') return 1;
  if (a.activation === 'relu') return Math.SQRT2;
  return Math.sqrt(2 / (1 + a.leakiness * a.leakiness));
}

/** The activation in float64 (references, tests). */
export function activate(a: ResolvedActivation, x: number): number {
  return a.activation === 'linear' || x > 0 ? x : a.leakiness * x;
}
