/**
 * 2-D convolution (cross-correlation, no kernel flip) over NCHW images.
 * W is [outChannels, inChannels, kernelH, kernelW], b is [outChannels].
 */
import { ShapeError } from '../../errors.js';
import {
  activationGain,
  resolveActivation,
  type ActivationOptions,
  type ResolvedActivation,
} from './activation.js';
import { positiveInt, requireImage, sizePair, type LayerDefinition, type ResolvedBase } from './layer.js';

export interface Conv2dLayerSpec extends ActivationOptions {
  kind: 'conv2d';
  filters: number;
  /** Square size or [height, width]. */
  kernelSize: number | [number, number];
  /** Default 'relu'. */
  activation?: ActivationOptions['activation'];
  name?: string;
}

export type ResolvedConv2dLayer = Omit<Conv2dLayerSpec, 'kernelSize' | 'activation' | 'leakiness'> &
  ResolvedActivation &
  ResolvedBase & {
    kernelSize: [number, number];
  };

export const conv2dLayer: LayerDefinition<Conv2dLayerSpec, ResolvedConv2dLayer> = {
  kind: 'conv2d',
  prefix: 'conv',
  resolve(layer, inputShape, name) {
    const [c, h, w] = requireImage(name, 'conv2d', inputShape);
    if (!positiveInt(layer.filters))
      throw new ShapeError(name, `filters must be a positive integer, got ${layer.filters}`);
    const kernel = sizePair(name, 'kernelSize', layer.kernelSize);
    const outH = h - kernel[0] + 1;
    const outW = w - kernel[1] + 1;
    if (outH < 1 || outW < 1)
      throw new ShapeError(name, `kernel ${kernel[0]}x${kernel[1]} is larger than its ${h}x${w} input`);
    const activation = resolveActivation(name, layer, 'relu');
    return {
      ...layer,
      ...activation,
      name,
      kernelSize: kernel,
      inputShape: [...inputShape],
      outputShape: [layer.filters, outH, outW],
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
