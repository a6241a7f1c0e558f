/** Average pooling over poolSize x poolSize windows with stride poolSize; partial windows are dropped. */
import type { LayerDefinition, ResolvedBase } from './layer.js';
import { pooledShape } from './maxpool2d.js';

export interface AvgPool2dLayerSpec {
  kind: 'avgpool2d';
  /** Square window and stride. */
  poolSize: number;
  name?: string;
}

export type ResolvedAvgPool2dLayer = AvgPool2dLayerSpec & ResolvedBase;

export const avgPool2dLayer: LayerDefinition<AvgPool2dLayerSpec, ResolvedAvgPool2dLayer> = {
  kind: 'avgpool2d',
  prefix: 'pool',
  resolve(layer, inputShape, name) {
    const outputShape = pooledShape(name, 'avgpool2d', inputShape, layer.poolSize);
    return { ...layer, name, inputShape: [...inputShape], outputShape, params: [], state: [] };
  },
};
