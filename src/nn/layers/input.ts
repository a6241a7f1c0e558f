/** The input layer: the per-sample shape of the data, first in every network. */
import { ShapeError } from '../../errors.js';
import { positiveInt, type LayerDefinition, type ResolvedBase } from './layer.js';

export interface InputLayerSpec {
  kind: 'input';
  /** [channels, height, width] for images, [features] for flat input. */
  shape: number[];
  name?: string;
}

export type ResolvedInputLayer = InputLayerSpec & ResolvedBase;

export const inputLayer: LayerDefinition<InputLayerSpec, ResolvedInputLayer> = {
  kind: 'input',
  prefix: 'input',
  resolve(layer, _inputShape, name) {
    if (
      !Array.isArray(layer.shape) ||
      ![1, 3].includes(layer.shape.length) ||
      !layer.shape.every(positiveInt)
    ) {
      throw new ShapeError(
        name,
        `input shape must be [channels, height, width] or [features] of positive integers, got ${JSON.stringify(layer.shape)}`,
      );
    }
    const shape = [...layer.shape];
    return { ...layer, name, inputShape: shape, outputShape: shape, params: [], state: [] };
  },
};
