/**
 * Fully connected layer. W is [inUnits, outUnits] (Lasagne's order), b is
 * [outUnits]; after a [C, H, W] input it flattens in C, H, W order.
 */
import { ShapeError } from '../../errors.js';
import { sizeOf } from '../tensor.js';
import {
  activationGain,
  resolveActivation,
  type ActivationOptions,
  type ResolvedActivation,
} from './activation.js';
import { positiveInt, type LayerDefinition, type ResolvedBase } from './layer.js';

export interface DenseLayerSpec extends ActivationOptions {
  kind: 'dense';
  units: number;
  /** Default 'relu'. */
  activation?: ActivationOptions['activation'];
  /**
   * How W starts: 'glorot' (default; Glorot-uniform, gain sqrt(2) for relu)
   * or 'zeros'. Zeros suit an output layer: the net then starts by predicting
   * its bias for every image (the mean shape, with the `outputBias:
   * 'meanTargets'` training option), instead of random outputs that the first
   * updates must cancel, which can silence the relu layer beneath it.
   */
  init?: DenseInit;
  name?: string;
}

export type DenseInit = 'glorot' | 'zeros';
const DENSE_INITS: readonly DenseInit[] = ['glorot', 'zeros'];

export type ResolvedDenseLayer = Omit<DenseLayerSpec, 'activation' | 'leakiness'> &
  ResolvedActivation &
  ResolvedBase;

export const denseLayer: LayerDefinition<DenseLayerSpec, ResolvedDenseLayer> = {
  kind: 'dense',
  prefix: 'hidden',
  resolve(layer, inputShape, name) {
    if (!positiveInt(layer.units))
      throw new ShapeError(name, `units must be a positive integer, got ${layer.units}`);
    const activation = resolveActivation(name, layer, 'relu');
    if (layer.init !== undefined && !DENSE_INITS.includes(layer.init))
      throw new ShapeError(name, `init must be 'glorot' or 'zeros', got ${JSON.stringify(layer.init)}`);
    return {
      ...layer,
      ...activation,
      name,
      inputShape: [...inputShape],
      outputShape: [layer.units],
      params: [
        {
          name: 'W',
          shape: [sizeOf(inputShape), layer.units],
          init:
            layer.init === 'zeros' ? { kind: 'zeros' } : { kind: 'glorot', gain: activationGain(activation) },
        },
        { name: 'b', shape: [layer.units], init: { kind: 'zeros' } },
      ],
      state: [],
    };
  },
};
