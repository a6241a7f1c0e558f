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
  name?: string;
}

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
          init: { kind: 'glorot', gain: activationGain(activation) },
        },
        { name: 'b', shape: [layer.units], init: { kind: 'zeros' } },
      ],
      state: [],
    };
  },
};
