/**
 * 2-D convolution (cross-correlation, no kernel flip) over NCHW images.
 * W is [outChannels, inChannels, kernelH, kernelW], b is [outChannels].
 *
 * Stride and padding (resolved to [top, bottom, left, right] zeros):
 * - `'valid'` (default): no padding; out = floor((in - kernel) / stride) + 1;
 * - `'same'`: out = ceil(in / stride), padded with max((out - 1) * stride +
 *   kernel - in, 0) zeros split as TensorFlow does (the odd one at the bottom / right);
 * - a number or [height, width]: that many zeros on both sides of each axis;
 *   out = floor((in + 2 * pad - kernel) / stride) + 1.
 */
import { ShapeError } from '../../errors.js';
import {
  activationGain,
  resolveActivation,
  type ActivationOptions,
  type ResolvedActivation,
} from './activation.js';
import { positiveInt, requireImage, sizePair, type LayerDefinition, type ResolvedBase } from './layer.js';

export type Padding = 'valid' | 'same' | number | [number, number];

export interface Conv2dLayerSpec extends ActivationOptions {
  kind: 'conv2d';
  filters: number;
  /** Square size or [height, width]. */
  kernelSize: number | [number, number];
  /** Step between windows: a number or [height, width] (default 1). */
  stride?: number | [number, number];
  /** Default 'valid' (no padding). */
  padding?: Padding;
  /** Default 'relu'. */
  activation?: ActivationOptions['activation'];
  name?: string;
}

export type ResolvedConv2dLayer = Omit<
  Conv2dLayerSpec,
  'kernelSize' | 'activation' | 'leakiness' | 'stride' | 'padding'
> &
  ResolvedActivation &
  ResolvedBase & {
    kernelSize: [number, number];
    stride: [number, number];
    /** Zeros added: [top, bottom, left, right]. */
    padding: [number, number, number, number];
  };

function nonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** [top, bottom, left, right] padding and the output size of a convolution with these options. */
export function convGeometry(
  name: string,
  input: [number, number],
  kernel: [number, number],
  stride: [number, number],
  padding: Padding | undefined,
): { padding: [number, number, number, number]; output: [number, number] } {
  const spec = padding ?? 'valid';
  const pads: number[] = [];
  const output: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const size = input[axis];
    const k = kernel[axis];
    const s = stride[axis];
    if (spec === 'same') {
      const out = Math.ceil(size / s);
      const total = Math.max((out - 1) * s + k - size, 0);
      pads.push(Math.floor(total / 2), total - Math.floor(total / 2));
      output.push(out);
      continue;
    }
    let pad = 0;
    if (spec !== 'valid') {
      const given = Array.isArray(spec) ? spec[axis] : spec;
      if ((Array.isArray(spec) && spec.length !== 2) || !nonNegativeInt(given)) {
        throw new ShapeError(
          name,
          `padding must be 'valid', 'same', a non-negative integer or [height, width], got ${JSON.stringify(spec)}`,
        );
      }
      pad = given;
    }
    pads.push(pad, pad);
    output.push(Math.floor((size + 2 * pad - k) / s) + 1);
  }
  return { padding: pads as [number, number, number, number], output: output as [number, number] };
}

export const conv2dLayer: LayerDefinition<Conv2dLayerSpec, ResolvedConv2dLayer> = {
  kind: 'conv2d',
  prefix: 'conv',
  resolve(layer, inputShape, name) {
    const [c, h, w] = requireImage(name, 'conv2d', inputShape);
    if (!positiveInt(layer.filters))
      throw new ShapeError(name, `filters must be a positive integer, got ${layer.filters}`);
    const kernel = sizePair(name, 'kernelSize', layer.kernelSize);
    const stride = sizePair(name, 'stride', layer.stride ?? 1);
    const { padding, output } = convGeometry(name, [h, w], kernel, stride, layer.padding);
    if (output[0] < 1 || output[1] < 1 || padding[0] >= kernel[0] || padding[2] >= kernel[1]) {
      throw new ShapeError(
        name,
        padding.some((p) => p > 0)
          ? `padding [${padding}] does not fit kernel ${kernel[0]}x${kernel[1]} on its ${h}x${w} input (each pad must be smaller than the kernel)`
          : `kernel ${kernel[0]}x${kernel[1]} is larger than its ${h}x${w} input`,
      );
    }
    const activation = resolveActivation(name, layer, 'relu');
    return {
      ...layer,
      ...activation,
      name,
      kernelSize: kernel,
      stride,
      padding,
      inputShape: [...inputShape],
      outputShape: [layer.filters, output[0], output[1]],
      params: [
        {
          name: 'W',
          shape: [layer.filters, c, kernel[0], kernel[1]],
          init: { kind: 'glorot', gain: activationGain(activation) },
        },
        { name: 'b', shape: [layer.filters], init: { kind: 'zeros' } },
      ],
      state: [],
    };
  },
};
