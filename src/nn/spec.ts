/**
 * Network specs: plain, JSON-serialisable descriptions of a layer stack
 * (Lasagne's idea of small plain layers, without the objects). A spec is
 * checked once by {@link resolveSpec}, which computes every layer's output
 * shape and parameter shapes and names the layer of any mismatch; engines
 * compile the resolved spec.
 *
 * Conventions shared by every engine (so weights move between engines):
 * - images are NCHW, row-major, float32;
 * - conv2d weights `W` are [outChannels, inChannels, kernelH, kernelW], bias `b` [outChannels];
 *   convolution is "valid" (no padding), stride 1, cross-correlation (no kernel flip);
 * - dense weights `W` are [inUnits, outUnits] (Lasagne's order), bias `b` [outUnits];
 *   a dense layer after a 3-D tensor flattens it in C, H, W order;
 * - max-pool windows are poolSize x poolSize with stride poolSize, partial windows dropped.
 */
import { ShapeError } from '../errors.js';

export type Activation = 'relu' | 'linear';

export interface InputLayerSpec {
  kind: 'input';
  /** [channels, height, width] for images, [features] for flat input. */
  shape: number[];
  name?: string;
}

export interface Conv2dLayerSpec {
  kind: 'conv2d';
  filters: number;
  /** Square size or [height, width]. */
  kernelSize: number | [number, number];
  /** Default 'relu'. */
  activation?: Activation;
  name?: string;
}

export interface MaxPool2dLayerSpec {
  kind: 'maxpool2d';
  /** Square window and stride. */
  poolSize: number;
  name?: string;
}

export interface DenseLayerSpec {
  kind: 'dense';
  units: number;
  /** Default 'relu'. */
  activation?: Activation;
  name?: string;
}

export interface DropoutLayerSpec {
  kind: 'dropout';
  /** Probability of dropping a unit during training (inverted dropout: kept units are scaled by 1/(1-rate)). */
  rate: number;
  name?: string;
}

export type LayerSpec =
  InputLayerSpec | Conv2dLayerSpec | MaxPool2dLayerSpec | DenseLayerSpec | DropoutLayerSpec;
export type LayerKind = LayerSpec['kind'];

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

export interface ParamShape {
  /** 'W' or 'b'. */
  name: 'W' | 'b';
  shape: number[];
}

/** A layer with its defaults filled in and shapes computed. */
export type ResolvedLayer =
  | (InputLayerSpec & { name: string; inputShape: number[]; outputShape: number[]; params: ParamShape[] })
  | (Omit<Conv2dLayerSpec, 'kernelSize' | 'activation'> & {
      name: string;
      kernelSize: [number, number];
      activation: Activation;
      inputShape: number[];
      outputShape: number[];
      params: ParamShape[];
    })
  | (MaxPool2dLayerSpec & { name: string; inputShape: number[]; outputShape: number[]; params: ParamShape[] })
  | (Omit<DenseLayerSpec, 'activation'> & {
      name: string;
      activation: Activation;
      inputShape: number[];
      outputShape: number[];
      params: ParamShape[];
    })
  | (DropoutLayerSpec & { name: string; inputShape: number[]; outputShape: number[]; params: ParamShape[] });

export interface ResolvedSpec {
  layers: ResolvedLayer[];
  /** Per-sample input shape, e.g. [1, 96, 96] or [9216]. */
  inputShape: number[];
  /** Number of values per sample in the input. */
  inputSize: number;
  /** Number of outputs per sample. */
  outputSize: number;
}

const DEFAULT_PREFIX: Record<LayerKind, string> = {
  input: 'input',
  conv2d: 'conv',
  maxpool2d: 'pool',
  dense: 'hidden',
  dropout: 'dropout',
};

function positiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Number of values in a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Checks a spec and computes every layer's shapes. Layer names default to
 * the kind plus a per-kind count (`conv1`, `pool1`, `conv2`, `hidden1`; the
 * first layer is `input`, the last `output`).
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
    const prefix = DEFAULT_PREFIX[layer.kind] ?? 'layer';
    const name = layer.name ?? (isLast ? 'output' : index === 0 ? 'input' : `${prefix}${count}`);
    if (names.has(name)) throw new ShapeError(name, 'layer names must be unique');
    names.add(name);
    const inputShape = shape;
    if (index === 0) {
      if (layer.kind !== 'input')
        throw new ShapeError(name, `the first layer must be 'input', got '${layer.kind}'`);
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
      shape = [...layer.shape];
      layers.push({ ...layer, name, inputShape: shape, outputShape: shape, params: [] });
      return;
    }
    switch (layer.kind) {
      case 'input':
        throw new ShapeError(name, "'input' may only be the first layer");
      case 'conv2d': {
        if (inputShape.length !== 3)
          throw new ShapeError(name, `conv2d needs a [channels, height, width] input, got [${inputShape}]`);
        if (!positiveInt(layer.filters))
          throw new ShapeError(name, `filters must be a positive integer, got ${layer.filters}`);
        const kernel: [number, number] = Array.isArray(layer.kernelSize)
          ? [layer.kernelSize[0], layer.kernelSize[1]]
          : [layer.kernelSize, layer.kernelSize];
        if (!kernel.every(positiveInt))
          throw new ShapeError(
            name,
            `kernelSize must be positive integers, got ${JSON.stringify(layer.kernelSize)}`,
          );
        const [c, h, w] = inputShape;
        const outH = h - kernel[0] + 1;
        const outW = w - kernel[1] + 1;
        if (outH < 1 || outW < 1)
          throw new ShapeError(name, `kernel ${kernel[0]}x${kernel[1]} is larger than its ${h}x${w} input`);
        shape = [layer.filters, outH, outW];
        const activation = checkActivation(name, layer.activation);
        layers.push({
          ...layer,
          name,
          kernelSize: kernel,
          activation,
          inputShape,
          outputShape: shape,
          params: [
            { name: 'W', shape: [layer.filters, c, kernel[0], kernel[1]] },
            { name: 'b', shape: [layer.filters] },
          ],
        });
        return;
      }
      case 'maxpool2d': {
        if (inputShape.length !== 3)
          throw new ShapeError(
            name,
            `maxpool2d needs a [channels, height, width] input, got [${inputShape}]`,
          );
        if (!positiveInt(layer.poolSize))
          throw new ShapeError(name, `poolSize must be a positive integer, got ${layer.poolSize}`);
        const [c, h, w] = inputShape;
        const outH = Math.floor(h / layer.poolSize);
        const outW = Math.floor(w / layer.poolSize);
        if (outH < 1 || outW < 1)
          throw new ShapeError(name, `pool ${layer.poolSize} is larger than its ${h}x${w} input`);
        shape = [c, outH, outW];
        layers.push({ ...layer, name, inputShape, outputShape: shape, params: [] });
        return;
      }
      case 'dense': {
        if (!positiveInt(layer.units))
          throw new ShapeError(name, `units must be a positive integer, got ${layer.units}`);
        const inUnits = sizeOf(inputShape);
        shape = [layer.units];
        const activation = checkActivation(name, layer.activation);
        layers.push({
          ...layer,
          name,
          activation,
          inputShape,
          outputShape: shape,
          params: [
            { name: 'W', shape: [inUnits, layer.units] },
            { name: 'b', shape: [layer.units] },
          ],
        });
        return;
      }
      case 'dropout': {
        if (typeof layer.rate !== 'number' || !(layer.rate >= 0 && layer.rate < 1)) {
          throw new ShapeError(name, `rate must be in [0, 1), got ${layer.rate}`);
        }
        layers.push({ ...layer, name, inputShape, outputShape: shape, params: [] });
        return;
      }
      default:
        throw new ShapeError(name, `unknown layer kind '${(layer as { kind: string }).kind}'`);
    }
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

function checkActivation(name: string, activation: Activation | undefined): Activation {
  const value = activation ?? 'relu';
  if (value !== 'relu' && value !== 'linear')
    throw new ShapeError(name, `activation must be 'relu' or 'linear', got '${value}'`);
  return value;
}

/** The name under which a parameter travels: `${layer}.${param}`, e.g. `conv1.W`. */
export function paramKey(layer: string, param: string): string {
  return `${layer}.${param}`;
}
