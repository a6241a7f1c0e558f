/**
 * tfjs LayersModel export: a Keras-style `model.json` (a Sequential
 * topology and a weights manifest) plus binary weight shards, loadable by
 * `tf.loadLayersModel` from a URL or through `tf.io.fromMemory`.
 *
 * tfjs computes in NHWC, so two layouts change (the engine boundary's are in
 * nn/spec.ts): conv W [out, in, kh, kw] becomes [kh, kw, in, out], and the
 * rows of the first dense layer after an image go from C, H, W order to the
 * H, W, C order in which tfjs' Flatten lays out an NHWC tensor. The model's
 * input is NHWC [batch, H, W, C]; with one channel that holds the same
 * values in the same order as facepoints' NCHW frames.
 *
 * Layers: Conv2D ('same' where facepoints' padding is exactly tfjs' 'same',
 * else a ZeroPadding2D before a 'valid' one), MaxPooling2D, AveragePooling2D,
 * GlobalAveragePooling2D, BatchNormalization (one not folded into the conv /
 * dense before it), Flatten, Dense, Dropout, soft-argmax as Reshape, Permute,
 * Activation('softmax') and a fixed Dense, with LeakyReLU or
 * Activation('relu') layers where the activation is not inside the layer.
 */
import type { NamedTensor } from '../engine/engine.js';
import { softArgmaxCentres } from '../nn/layers/soft-argmax.js';
import type { ModelContent } from '../train/model-file.js';
import {
  exportMetadata,
  exportPlan,
  inferenceLayers,
  UnsupportedLayerError,
  type ExportPlan,
} from './export-plan.js';

/** Largest weight shard, as tfjs' converter writes them. */
const SHARD_BYTES = 4 * 1024 * 1024;

/** The tfjs `model.json` content (a subset of tfjs' ModelJSON). */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Sequential';
    config: { name: string; layers: unknown[] };
    keras_version: string;
    backend: string;
  };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
  userDefinedMetadata: { facepoints: ReturnType<typeof exportMetadata> };
}

/** A tfjs export: `model.json` and its weight shards (file name -> bytes). */
export interface TfjsExport {
  modelJson: TfjsModelJson;
  shards: { name: string; bytes: Uint8Array }[];
}

/** Conv W [out, in, kh, kw] -> [kh, kw, in, out]. */
function convKernel(w: NamedTensor): { shape: number[]; data: Float32Array } {
  const [o, i, kh, kw] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          out[((y * kw + x) * i + b) * o + a] = w.data[((a * i + b) * kh + y) * kw + x];
  return { shape: [kh, kw, i, o], data: out };
}

/** Dense W [C*H*W, units] with rows in C, H, W order -> rows in H, W, C order. */
function denseRowsHwc(w: NamedTensor, [c, h, wd]: number[]): Float32Array {
  const units = w.shape[1];
  const out = new Float32Array(w.data.length);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < wd; x++) {
        const from = ((ch * h + y) * wd + x) * units;
        const to = ((y * wd + x) * c + ch) * units;
        out.set(w.data.subarray(from, from + units), to);
      }
  return out;
}

/** tfjs' 'same' padding [top, bottom, left, right] of a convolution (TensorFlow's rule: the odd zero at the bottom / right). */
function samePadding(input: number[], kernel: [number, number], stride: [number, number]): number[] {
  const pads: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const size = input[axis + 1];
    const total = Math.max((Math.ceil(size / stride[axis]) - 1) * stride[axis] + kernel[axis] - size, 0);
    pads.push(Math.floor(total / 2), total - Math.floor(total / 2));
  }
  return pads;
}

function topology(plan: ExportPlan): {
  layers: unknown[];
  weights: { name: string; shape: number[]; data: Float32Array }[];
} {
  const layers: unknown[] = [];
  const weights: { name: string; shape: number[]; data: Float32Array }[] = [];
  const input = plan.spec.inputShape;
  let batchInputShape: (number | null)[] | undefined =
    input.length === 3 ? [null, input[1], input[2], input[0]] : [null, ...input];
  let spatialShape: number[] | null = input.length === 3 ? [...input] : null;
  const push = (className: string, config: Record<string, unknown>) => {
    const full: Record<string, unknown> = { ...config, trainable: true, dtype: 'float32' };
    if (batchInputShape) full.batch_input_shape = batchInputShape;
    batchInputShape = undefined;
    layers.push({ class_name: className, config: full });
  };
  const tensor = (name: string, t: NamedTensor) => weights.push({ name, shape: [...t.shape], data: t.data });
  /** relu goes into Conv2D / Dense themselves; leaky relu (no such tfjs activation string) is a LeakyReLU layer after them. */
  const inLayerActivation = (layer: { activation: string }) =>
    layer.activation === 'relu' ? 'relu' : 'linear';
  const activationAfter = (
    layer: { name: string; activation: string; leakiness: number },
    inLayer: boolean,
  ) => {
    if (layer.activation === 'leakyRelu')
      push('LeakyReLU', { name: `${layer.name}_leakyrelu`, alpha: layer.leakiness });
    else if (layer.activation === 'relu' && !inLayer)
      push('Activation', { name: `${layer.name}_relu`, activation: 'relu' });
  };
  for (const layer of inferenceLayers(plan)) {
    switch (layer.kind) {
      case 'input':
        break;
      case 'conv2d': {
        const [top, bottom, left, right] = layer.padding;
        const same = samePadding(layer.inputShape, layer.kernelSize, layer.stride);
        const isSame = layer.padding.every((p, i) => p === same[i]);
        const isValid = layer.padding.every((p) => p === 0);
        if (!isSame && !isValid) {
          push('ZeroPadding2D', {
            name: `${layer.name}_pad`,
            padding: [
              [top, bottom],
              [left, right],
            ],
            data_format: 'channels_last',
          });
        }
        push('Conv2D', {
          name: layer.name,
          filters: layer.filters,
          kernel_size: layer.kernelSize,
          strides: layer.stride,
          padding: isSame && !isValid ? 'same' : 'valid',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: inLayerActivation(layer),
          use_bias: true,
        });
        const kernel = convKernel(layer.tensors.W);
        weights.push({ name: `${layer.name}/kernel`, ...kernel });
        tensor(`${layer.name}/bias`, layer.tensors.b);
        activationAfter(layer, true);
        spatialShape = [...layer.outputShape];
        break;
      }
      case 'maxpool2d':
      case 'avgpool2d':
        push(layer.kind === 'maxpool2d' ? 'MaxPooling2D' : 'AveragePooling2D', {
          name: layer.name,
          pool_size: [layer.poolSize, layer.poolSize],
          strides: [layer.poolSize, layer.poolSize],
          padding: 'valid',
          data_format: 'channels_last',
        });
        spatialShape = [...layer.outputShape];
        break;
      case 'globalavgpool':
        // NHWC -> [n, C]: the channel order facepoints' flat outputs have.
        push('GlobalAveragePooling2D', { name: layer.name, data_format: 'channels_last' });
        spatialShape = null;
        break;
      case 'batchnorm':
        // Not after a linear conv / dense (those fold it): inference-mode BatchNormalization over the channel axis.
        push('BatchNormalization', {
          name: layer.name,
          axis: -1,
          epsilon: layer.epsilon,
          momentum: 1 - layer.alpha,
          center: true,
          scale: true,
        });
        tensor(`${layer.name}/gamma`, layer.tensors.gamma);
        tensor(`${layer.name}/beta`, layer.tensors.beta);
        tensor(`${layer.name}/moving_mean`, layer.tensors.mean);
        tensor(`${layer.name}/moving_variance`, layer.tensors.var);
        activationAfter(layer, false);
        break;
      case 'dropout':
        push('Dropout', { name: layer.name, rate: layer.rate });
        break;
      case 'dense': {
        const w = layer.tensors.W;
        let data = w.data;
        if (spatialShape) {
          push('Flatten', { name: `${layer.name}_flatten`, data_format: 'channels_last' });
          data = denseRowsHwc(w, spatialShape);
          spatialShape = null;
        }
        push('Dense', {
          name: layer.name,
          units: layer.units,
          activation: inLayerActivation(layer),
          use_bias: true,
        });
        weights.push({ name: `${layer.name}/kernel`, shape: [...w.shape], data });
        tensor(`${layer.name}/bias`, layer.tensors.b);
        activationAfter(layer, true);
        break;
      }
      case 'softargmax': {
        // NHWC [H, W, C] -> [C, H*W] -> softmax over the cells -> a bias-free Dense(2) of the cell
        // centres -> [C, 2] -> flat x0, y0, x1, y1, ...
        const [c, h, w] = layer.inputShape;
        push('Reshape', { name: `${layer.name}_cells`, target_shape: [h * w, c] });
        push('Permute', { name: `${layer.name}_planes`, dims: [2, 1] });
        push('Activation', { name: `${layer.name}_softmax`, activation: 'softmax' });
        push('Dense', { name: layer.name, units: 2, activation: 'linear', use_bias: false });
        weights.push({ name: `${layer.name}/kernel`, shape: [h * w, 2], data: softArgmaxCentres(layer) });
        push('Flatten', { name: `${layer.name}_flatten`, data_format: 'channels_last' });
        spatialShape = null;
        break;
      }
      default:
        throw new UnsupportedLayerError(
          (layer as { name: string }).name,
          `layer kind '${(layer as { kind: string }).kind}' has no tfjs export`,
        );
    }
  }
  return { layers, weights };
}

/**
 * Builds a tfjs LayersModel export.
 *
 * @throws UnsupportedLayerError naming a layer tfjs export does not know.
 * @example
 * const { modelJson, shards } = exportTfjs(await readModelFile('net.fpm'));
 * // in the page: const model = await tf.loadLayersModel('model/model.json');
 * // model.predict(tf.tensor4d(frame, [1, 96, 96, 1])) -> [1, outputs], pixel = v * 48 + 48
 */
export function exportTfjs(content: ModelContent, options: { generatedBy?: string } = {}): TfjsExport {
  const plan = exportPlan(content);
  const { layers, weights } = topology(plan);
  const total = weights.reduce((sum, w) => sum + w.data.length * 4, 0);
  const all = new Uint8Array(total);
  const view = new DataView(all.buffer);
  let offset = 0;
  for (const w of weights) {
    for (let i = 0; i < w.data.length; i++) view.setFloat32(offset + i * 4, w.data[i], true);
    offset += w.data.length * 4;
  }
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    bytes: all.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES)),
  }));
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: options.generatedBy ?? 'facepoints',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'facepoints', layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [
      {
        paths: shards.map((s) => s.name),
        weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })),
      },
    ],
    userDefinedMetadata: { facepoints: exportMetadata(plan, 'NHWC') },
  };
  return { modelJson, shards };
}
