/** Inverted dropout: in training, drops each unit with probability `rate` and scales kept ones by 1 / (1 - rate). */
import { ShapeError } from '../../errors.js';
import type { LayerDefinition, ResolvedBase } from './layer.js';

export interface DropoutLayerSpec {
  kind: 'dropout';
  /** Probability of dropping a unit during training (inverted dropout: kept units are scaled by 1/(1-rate)). */
  rate: number;
  name?: string;
}

export type ResolvedDropoutLayer = DropoutLayerSpec & ResolvedBase;

export const dropoutLayer: LayerDefinition<DropoutLayerSpec, ResolvedDropoutLayer> = {
  kind: 'dropout',
  prefix: 'dropout',
  resolve(layer, inputShape, name) {
    if (typeof layer.rate !== 'number' || !(layer.rate >= 0 && layer.rate < 1)) {
      throw new ShapeError(name, `rate must be in [0, 1), got ${layer.rate}`);
    }
    return {
      ...layer,
      name,
      inputShape: [...inputShape],
      outputShape: [...inputShape],
      params: [],
      state: [],
    };
  },
};
