/**
 * Network specs: plain, JSON-serialisable descriptions of a layer stack
 * (Lasagne's idea of small plain layers, without the objects). A spec is
 * checked once by {@link resolveSpec}, which asks each layer's kind (one
 * module per kind in `layers/`) for its output shape and tensors and names
 * the layer of any mismatch; engines compile the resolved spec.
 *
 * Conventions shared by every engine (so weights move between engines):
 * - images are NCHW, row-major, float32;
 * - conv2d weights `W` are [outChannels, inChannels, kernelH, kernelW], bias `b` [outChannels];
 *   convolution is cross-correlation (no kernel flip);
 * - dense weights `W` are [inUnits, outUnits] (Lasagne's order), bias `b` [outUnits];
 *   a dense layer after a 3-D tensor flattens it in C, H, W order;
 * - max-pool windows are poolSize x poolSize with stride poolSize, partial windows dropped.
 * Each kind's own conventions are documented in its module (`layers/*.ts`).
 */
import { ShapeError } from '../errors.js';
import { LAYER_DEFINITIONS, type LayerSpec, type ResolvedLayer } from './layers/index.js';
import type { LayerDefinition, ParamShape, ResolvedBase } from './layers/layer.js';
import { sizeOf } from './tensor.js';

export type { Activation } from './layers/activation.js';
export type { AvgPool2dLayerSpec } from './layers/avgpool2d.js';
export type { BatchNormLayerSpec } from './layers/batchnorm.js';
export type { Conv2dLayerSpec, Padding } from './layers/conv2d.js';
export type { GlobalAvgPoolLayerSpec } from './layers/global-avg-pool.js';
export type { DenseLayerSpec } from './layers/dense.js';
export type { DropoutLayerSpec } from './layers/dropout.js';
export type { InputLayerSpec } from './layers/input.js';
export type { LayerKind, LayerSpec, ResolvedLayer, ResolvedLayerOf } from './layers/index.js';
export type { ParamInit, ParamShape } from './layers/layer.js';
export type { MaxPool2dLayerSpec } from './layers/maxpool2d.js';
export type { SoftArgmaxLayerSpec } from './layers/soft-argmax.js';
export { sizeOf };

/**
 * A whole network: the first layer is the input, the last produces the outputs.
 *
 * @example
 * const spec: NetworkSpec = { layers: [
 *   { kind: 'input', shape: [9216] },
 *   { kind: 'dense', units: 100 },
 *   { kind: 'dense', units: 30, activation: 'linear' },
 * ] };
 */
export interface NetworkSpec {
  layers: LayerSpec[];
}

export interface ResolvedSpec {
  layers: ResolvedLayer[];
  /** Per-sample input shape, e.g. [1, 96, 96] or [9216]. */
  inputShape: number[];
  /** Number of values per sample in the input. */
  inputSize: number;
  /** Number of outputs per sample. */
  outputSize: number;
}

/**
 * Checks a spec and computes every layer's shapes. Layer names default to
 * the kind's prefix plus a per-kind count (`conv1`, `pool1`, `conv2`,
 * `hidden1`; the first layer is `input`, the last `output`).
 *
 * @throws ShapeError naming the layer whose shape or options do not fit.
 */
export function resolveSpec(spec: NetworkSpec): ResolvedSpec {
  if (!spec || !Array.isArray(spec.layers) || spec.layers.length < 2) {
    throw new ShapeError('(network)', 'a network needs an input layer and at least one more layer');
  }
  const layers: ResolvedLayer[] = [];
  const names = new Set<string>();
  const kindCounts = new Map<string, number>();
  let shape: number[] = [];
  spec.layers.forEach((layer, index) => {
    const isLast = index === spec.layers.length - 1;
    const count = (kindCounts.get(layer.kind) ?? 0) + 1;
    kindCounts.set(layer.kind, count);
    const definition = Object.hasOwn(LAYER_DEFINITIONS, layer.kind)
      ? (LAYER_DEFINITIONS[layer.kind] as LayerDefinition<LayerSpec, ResolvedLayer & ResolvedBase>)
      : undefined;
    const prefix = definition?.prefix ?? 'layer';
    const name = layer.name ?? (isLast ? 'output' : index === 0 ? 'input' : `${prefix}${count}`);
    if (names.has(name)) throw new ShapeError(name, 'layer names must be unique');
    names.add(name);
    if (index === 0 && layer.kind !== 'input') {
      throw new ShapeError(name, `the first layer must be 'input', got '${layer.kind}'`);
    }
    if (index > 0 && layer.kind === 'input')
      throw new ShapeError(name, "'input' may only be the first layer");
    if (!definition) {
      throw new ShapeError(name, `unknown layer kind '${(layer as { kind: string }).kind}'`);
    }
    const resolved = definition.resolve(layer, shape, name, layers[0]?.outputShape ?? []);
    shape = resolved.outputShape;
    layers.push(resolved);
  });
  const last = layers[layers.length - 1];
  if (last.outputShape.length !== 1) {
    throw new ShapeError(
      last.name,
      `the last layer must produce a flat vector of outputs, got [${last.outputShape}]`,
    );
  }
  return {
    layers,
    inputShape: layers[0].outputShape,
    inputSize: sizeOf(layers[0].outputShape),
    outputSize: last.outputShape[0],
  };
}

/** The name under which a parameter travels: `${layer}.${param}`, e.g. `conv1.W`. */
export function paramKey(layer: string, param: string): string {
  return `${layer}.${param}`;
}

/** A tensor of a network with its layer and whether the optimiser trains it. */
export interface WeightInfo extends ParamShape {
  /** `layer.param`, e.g. `bn1.mean`. */
  key: string;
  layer: string;
  trainable: boolean;
}

/**
 * Every tensor a network's weights hold, in the order engines list them: per
 * layer, its trainable parameters then its state. `getWeights`/`setWeights`
 * and model files carry all of them; gradients and optimiser state only the
 * trainable ones.
 *
 * @example
 * weightInfos(resolveSpec(spec)).filter((w) => w.trainable).map((w) => w.key); // ['conv1.W', 'conv1.b', ...]
 */
export function weightInfos(spec: ResolvedSpec): WeightInfo[] {
  return spec.layers.flatMap((layer) => [
    ...layer.params.map((p) => ({
      ...p,
      key: paramKey(layer.name, p.name),
      layer: layer.name,
      trainable: true,
    })),
    ...layer.state.map((p) => ({
      ...p,
      key: paramKey(layer.name, p.name),
      layer: layer.name,
      trainable: false,
    })),
  ]);
}

/** A layer's trainable parameters and state together, as its weights travel. */
export function layerTensors(layer: ResolvedLayer): ParamShape[] {
  return [...layer.params, ...layer.state];
}
