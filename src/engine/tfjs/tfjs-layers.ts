/**
 * One builder per layer kind for the tfjs engine: how a resolved layer
 * (`nn/layers/`) computes its output from its input, in tfjs layouts (NHWC
 * images, see `layout.ts`). The record has a key for every kind, so a new kind
 * does not compile until it has its builder here (docs/layers.md).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../errors.js';
import { softArgmaxCentres } from '../../nn/layers/soft-argmax.js';
import type { LayerKind, ResolvedLayerOf } from '../../nn/spec.js';
import type { DropoutMaskFn } from '../engine.js';
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
  /** Where dropout masks come from (`CompileOptions.dropoutMask`). */
  dropoutMask: DropoutMaskFn;
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

/** A resolved activation as tfjs ops. */
export function applyActivation(layer: { activation: string; leakiness: number }, x: tf.Tensor): tf.Tensor {
  if (layer.activation === 'relu') return tf.relu(x);
  if (layer.activation === 'leakyRelu') return tf.leakyRelu(x, layer.leakiness);
  return x;
}

export const TFJS_LAYERS: { [K in LayerKind]: TfjsLayerBuilder<K> } = {
  input: (_layer, x) => x,
  conv2d: (layer, x, { params }) => {
    const [top, bottom, left, right] = layer.padding;
    return tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: params.W as tf.Tensor4D,
      bias: params.b,
      strides: layer.stride,
      // Unpadded convolutions keep 'valid', for which the wasm backend has its fastest kernels.
      pad:
        top + bottom + left + right === 0
          ? 'valid'
          : [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
      activation: fusedActivation(layer),
      leakyreluAlpha: layer.leakiness,
    });
  },
  maxpool2d: (layer, x) => tf.maxPool(x as tf.Tensor4D, layer.poolSize, layer.poolSize, 'valid'),
  avgpool2d: (layer, x) => tf.avgPool(x as tf.Tensor4D, layer.poolSize, layer.poolSize, 'valid'),
  // NHWC -> [n, C]: the channel order of the boundary's flat outputs.
  globalavgpool: (_layer, x) => tf.mean(x, [1, 2]),
  batchnorm: (layer, x, { params, state, training, updateState }) => {
    // Per channel: over samples and positions of NHWC images, over samples of [n, F].
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    let mean: tf.Tensor = state.mean;
    let variance: tf.Tensor = state.var;
    if (training) {
      const moments = tf.moments(x, axes);
      mean = moments.mean;
      variance = moments.variance;
      if (updateState) {
        const a = layer.alpha;
        state.mean.assign(tf.add(tf.mul(state.mean, 1 - a), tf.mul(mean, a)));
        state.var.assign(tf.add(tf.mul(state.var, 1 - a), tf.mul(variance, a)));
      }
    }
    const scale = tf.mul(tf.rsqrt(tf.add(variance, layer.epsilon)), params.gamma);
    const y = tf.add(tf.mul(tf.sub(x, mean), scale), params.beta);
    return applyActivation(layer, y);
  },
  dense: (layer, x, { params }) =>
    tf.fused.matMul({
      a: flattenChw(x),
      b: params.W as tf.Tensor2D,
      bias: params.b,
      activation: fusedActivation(layer),
      leakyreluAlpha: layer.leakiness,
    }),
  dropout: (layer, x, { dropoutSeed, dropoutMask }) => {
    if (dropoutSeed === undefined || layer.rate === 0) return x;
    const mask = dropoutMask(dropoutSeed, layer.name, layer.rate, x.size);
    if (mask.length !== x.size) {
      throw new ShapeError(layer.name, `dropoutMask gave ${mask.length} values, expected ${x.size}`);
    }
    return tf.mul(x, nchwValuesToTfjs(mask, x.shape));
  },
  // NHWC [n, H, W, C] -> per channel a softmax over the H x W cells -> [n, C] expected x and y -> [n, 2C] (x0, y0, ...).
  softargmax: (layer, x) => {
    const [n, h, w, c] = x.shape;
    const logits = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n * c, h * w]);
    const xy = tf.matMul(tf.softmax(logits), tf.tensor2d(softArgmaxCentres(layer), [h * w, 2]));
    return tf.reshape(xy, [n, 2 * c]);
  },
};
