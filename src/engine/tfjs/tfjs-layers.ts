/**
 * One builder per layer kind for the tfjs engine: how a resolved layer
 * (`nn/layers/`) computes its output from its input, in tfjs layouts (NHWC
 * images, see `layout.ts`). The record has a key for every kind, so a new kind
 * does not compile until it has its builder here (docs/layers.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerKind, ResolvedLayerOf } from '../../nn/spec.js';
import { dropoutMask } from './dropout-mask.js';
import { flattenChw, nchwValuesToTfjs } from './layout.js';

/** What a builder may use besides its input. */
export interface TfjsLayerContext {
  /** The layer's trainable parameters by short name (`W`, `b`, ...), in tfjs layout. */
  params: Record<string, tf.Variable>;
  /** The layer's non-trainable state by short name (`mean`, `var`). */
  state: Record<string, tf.Variable>;
  /** Training mode: dropout (when a seed is given) and batch statistics. */
  training: boolean;
  /** Seed of this step's dropout masks; undefined: no dropout. */
  dropoutSeed?: number;
  /** Training steps set this: layers with state update it (batch norm's running statistics). */
  updateState: boolean;
}

export type TfjsLayerBuilder<K extends LayerKind> = (
  layer: ResolvedLayerOf<K>,
  x: tf.Tensor,
  context: TfjsLayerContext,
) => tf.Tensor;

/** tfjs' fused-op activation for a resolved activation. */
export function fusedActivation(layer: { activation: string }): 'relu' | 'linear' | 'leakyrelu' {
  return layer.activation === 'leakyRelu' ? 'leakyrelu' : (layer.activation as 'relu' | 'linear');
}

export const TFJS_LAYERS: { [K in LayerKind]: TfjsLayerBuilder<K> } = {
  input: (_layer, x) => x,
  conv2d: (layer, x, { params }) =>
    tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: params.W as tf.Tensor4D,
      bias: params.b,
      strides: 1,
      pad: 'valid',
      activation: fusedActivation(layer),
      leakyreluAlpha: layer.leakiness,
    }),
  maxpool2d: (layer, x) => tf.maxPool(x as tf.Tensor4D, layer.poolSize, layer.poolSize, 'valid'),
  dense: (layer, x, { params }) =>
    tf.fused.matMul({
      a: flattenChw(x),
      b: params.W as tf.Tensor2D,
      bias: params.b,
      activation: fusedActivation(layer),
      leakyreluAlpha: layer.leakiness,
    }),
  dropout: (layer, x, { dropoutSeed }) => {
    if (dropoutSeed === undefined || layer.rate === 0) return x;
    const mask = dropoutMask(dropoutSeed, layer.name, layer.rate, x.size);
    return tf.mul(x, nchwValuesToTfjs(mask, x.shape));
  },
};
