/**
 * Batch normalisation (Ioffe & Szegedy 2015; Lasagne's BatchNormLayer), per
 * channel of a [C, H, W] input (over samples and positions) or per feature
 * of a [F] input (over samples), followed by an optional activation:
 *
 *   training:  y = act(gamma * (x - mu_B) / sqrt(var_B + epsilon) + beta),
 *              mu_B, var_B the batch's mean and biased variance;
 *              then mean = (1 - alpha) * mean + alpha * mu_B, likewise var
 *              (training steps only: `Network.gradients` leaves them alone);
 *   inference: y = act(gamma * (x - mean) / sqrt(var + epsilon) + beta).
 *
 * `gamma` (starts at 1) and `beta` (0) are trainable; the running `mean` (0)
 * and `var` (1) are layer state: saved with the weights, never touched by the optimiser.
 */
import { ShapeError } from '../../errors.js';
import { resolveActivation, type ActivationOptions, type ResolvedActivation } from './activation.js';
import type { LayerDefinition, ResolvedBase } from './layer.js';

export interface BatchNormLayerSpec extends ActivationOptions {
  kind: 'batchnorm';
  /** Added to the variance before its square root (default 1e-5). */
  epsilon?: number;
  /** Weight of the batch in the running averages (default 0.1, Lasagne's alpha, PyTorch's momentum). */
  alpha?: number;
  /** Default 'linear'. */
  activation?: ActivationOptions['activation'];
  name?: string;
}

export type ResolvedBatchNormLayer = Omit<
  BatchNormLayerSpec,
  'epsilon' | 'alpha' | 'activation' | 'leakiness'
> &
  ResolvedActivation &
  ResolvedBase & { epsilon: number; alpha: number };

export const batchNormLayer: LayerDefinition<BatchNormLayerSpec, ResolvedBatchNormLayer> = {
  kind: 'batchnorm',
  prefix: 'bn',
  resolve(layer, inputShape, name) {
    const epsilon = layer.epsilon ?? 1e-5;
    const alpha = layer.alpha ?? 0.1;
    if (!(typeof epsilon === 'number' && epsilon > 0 && Number.isFinite(epsilon))) {
      throw new ShapeError(name, `epsilon must be a positive number, got ${String(layer.epsilon)}`);
    }
    if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) {
      throw new ShapeError(name, `alpha must be in [0, 1], got ${String(layer.alpha)}`);
    }
    const channels = [inputShape[0]];
    return {
      ...layer,
      ...resolveActivation(name, layer, 'linear'),
      epsilon,
      alpha,
      name,
      inputShape: [...inputShape],
      outputShape: [...inputShape],
      params: [
        { name: 'gamma', shape: channels, init: { kind: 'ones' } },
        { name: 'beta', shape: channels, init: { kind: 'zeros' } },
      ],
      state: [
        { name: 'mean', shape: channels, init: { kind: 'zeros' } },
        { name: 'var', shape: channels, init: { kind: 'ones' } },
      ],
    };
  },
};
