/**
 * What every layer kind provides (Lasagne's idea: a layer knows its output
 * shape and its parameters). A kind is one module in this folder exporting a
 * {@link LayerDefinition}; `layers/index.ts` lists them. See
 * docs/layers.md, "Adding a layer kind".
 */
import { ShapeError } from '../../errors.js';

/** How a tensor of a layer starts: Glorot-uniform with a gain (Lasagne's default for W), zeros or ones. */
export type ParamInit = { kind: 'glorot'; gain: number } | { kind: 'zeros' } | { kind: 'ones' };

/** A tensor a layer owns, by its short name (`W`, `b`, `gamma`, `mean`, ...). */
export interface ParamShape {
  name: string;
  shape: number[];
  init: ParamInit;
}

/** What resolving adds to every layer's own options. */
export interface ResolvedBase {
  name: string;
  /** Per-sample input shape: [channels, height, width] or [features]. */
  inputShape: number[];
  outputShape: number[];
  /** Trainable parameters: the optimiser updates them and gradients exist for them. */
  params: ParamShape[];
  /**
   * Non-trainable layer state (batch norm's running mean and variance): saved
   * and loaded with the weights, updated by training steps, never by the optimiser.
   */
  state: ParamShape[];
}

/**
 * One layer kind. `resolve` checks the layer's options against its input
 * shape and returns the layer with defaults filled in, its output shape and
 * its tensors; it throws a ShapeError naming the layer when something does not fit.
 */
export interface LayerDefinition<Spec extends { kind: string }, Resolved extends ResolvedBase> {
  readonly kind: Spec['kind'];
  /** Default names are this prefix plus a per-kind count: conv1, conv2, ... */
  readonly prefix: string;
  /** `networkInput` is the per-sample shape of the network's input layer (for layers placed in its frame). */
  resolve(layer: Spec, inputShape: number[], name: string, networkInput: readonly number[]): Resolved;
}

export function positiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** A square size or [height, width], as positive integers. */
export function sizePair(name: string, what: string, value: unknown): [number, number] {
  const pair = Array.isArray(value) ? [value[0], value[1]] : [value, value];
  if ((Array.isArray(value) && value.length !== 2) || !pair.every(positiveInt)) {
    throw new ShapeError(
      name,
      `${what} must be a positive integer or [height, width], got ${JSON.stringify(value)}`,
    );
  }
  return pair as [number, number];
}

export function requireImage(
  name: string,
  kind: string,
  inputShape: readonly number[],
): [number, number, number] {
  if (inputShape.length !== 3) {
    throw new ShapeError(name, `${kind} needs a [channels, height, width] input, got [${inputShape}]`);
  }
  return [inputShape[0], inputShape[1], inputShape[2]];
}
