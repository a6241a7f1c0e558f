/** Global average pooling (Lasagne's GlobalPoolLayer): the mean of each channel, [C, H, W] -> [C]. */
import { requireImage, type LayerDefinition, type ResolvedBase } from './layer.js';

export interface GlobalAvgPoolLayerSpec {
  kind: 'globalavgpool';
  name?: string;
}

export type ResolvedGlobalAvgPoolLayer = GlobalAvgPoolLayerSpec & ResolvedBase;

export const globalAvgPoolLayer: LayerDefinition<GlobalAvgPoolLayerSpec, ResolvedGlobalAvgPoolLayer> = {
  kind: 'globalavgpool',
  prefix: 'globalpool',
  resolve(layer, inputShape, name) {
    const [c] = requireImage(name, 'globalavgpool', inputShape);
    return { ...layer, name, inputShape: [...inputShape], outputShape: [c], params: [], state: [] };
  },
};
