/** Max-pooling over poolSize x poolSize windows with stride poolSize; partial windows are dropped. */
import { ShapeError } from '../../errors.js';
import { positiveInt, requireImage, type LayerDefinition, type ResolvedBase } from './layer.js';

export interface MaxPool2dLayerSpec {
  kind: 'maxpool2d';
  /** Square window and stride. */
  poolSize: number;
  name?: string;
}

export type ResolvedMaxPool2dLayer = MaxPool2dLayerSpec & ResolvedBase;

/** Output shape of a poolSize x poolSize, stride-poolSize pooling; shared by the pooling kinds. */
export function pooledShape(name: string, kind: string, inputShape: number[], poolSize: unknown): number[] {
  const [c, h, w] = requireImage(name, kind, inputShape);
  if (!positiveInt(poolSize))
    throw new ShapeError(name, `poolSize must be a positive integer, got ${String(poolSize)}`);
  const outH = Math.floor(h / poolSize);
  const outW = Math.floor(w / poolSize);
  if (outH < 1 || outW < 1) throw new ShapeError(name, `pool ${poolSize} is larger than its ${h}x${w} input`);
  return [c, outH, outW];
}

export const maxPool2dLayer: LayerDefinition<MaxPool2dLayerSpec, ResolvedMaxPool2dLayer> = {
  kind: 'maxpool2d',
  prefix: 'pool',
  resolve(layer, inputShape, name) {
    const outputShape = pooledShape(name, 'maxpool2d', inputShape, layer.poolSize);
    return { ...layer, name, inputShape: [...inputShape], outputShape, params: [], state: [] };
  },
};
