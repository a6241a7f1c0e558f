/**
 * Every layer kind, in one list. A spec's `kind` picks its definition here;
 * engines keep one builder per kind in a record of the same keys, so the
 * compiler names every place a new kind still needs (docs/layers.md).
 */
import { avgPool2dLayer, type AvgPool2dLayerSpec, type ResolvedAvgPool2dLayer } from './avgpool2d.js';
import { batchNormLayer, type BatchNormLayerSpec, type ResolvedBatchNormLayer } from './batchnorm.js';
import { conv2dLayer, type Conv2dLayerSpec, type ResolvedConv2dLayer } from './conv2d.js';
import { denseLayer, type DenseLayerSpec, type ResolvedDenseLayer } from './dense.js';
import { dropoutLayer, type DropoutLayerSpec, type ResolvedDropoutLayer } from './dropout.js';
import {
  globalAvgPoolLayer,
  type GlobalAvgPoolLayerSpec,
  type ResolvedGlobalAvgPoolLayer,
} from './global-avg-pool.js';
import { inputLayer, type InputLayerSpec, type ResolvedInputLayer } from './input.js';
import type { LayerDefinition } from './layer.js';
import { maxPool2dLayer, type MaxPool2dLayerSpec, type ResolvedMaxPool2dLayer } from './maxpool2d.js';
import { softArgmaxLayer, type ResolvedSoftArgmaxLayer, type SoftArgmaxLayerSpec } from './soft-argmax.js';

export type LayerSpec =
  | InputLayerSpec
  | Conv2dLayerSpec
  | MaxPool2dLayerSpec
  | AvgPool2dLayerSpec
  | GlobalAvgPoolLayerSpec
  | BatchNormLayerSpec
  | DenseLayerSpec
  | DropoutLayerSpec
  | SoftArgmaxLayerSpec;

/** A layer with its defaults filled in and its shapes computed. */
export type ResolvedLayer =
  | ResolvedInputLayer
  | ResolvedConv2dLayer
  | ResolvedMaxPool2dLayer
  | ResolvedAvgPool2dLayer
  | ResolvedGlobalAvgPoolLayer
  | ResolvedBatchNormLayer
  | ResolvedDenseLayer
  | ResolvedDropoutLayer
  | ResolvedSoftArgmaxLayer;

export type LayerKind = LayerSpec['kind'];

/** The resolved layer of one kind. */
export type ResolvedLayerOf<K extends LayerKind> = Extract<ResolvedLayer, { kind: K }>;

export const LAYER_DEFINITIONS: {
  [K in LayerKind]: LayerDefinition<Extract<LayerSpec, { kind: K }>, ResolvedLayerOf<K>>;
} = {
  input: inputLayer,
  conv2d: conv2dLayer,
  maxpool2d: maxPool2dLayer,
  avgpool2d: avgPool2dLayer,
  globalavgpool: globalAvgPoolLayer,
  batchnorm: batchNormLayer,
  dense: denseLayer,
  dropout: dropoutLayer,
  softargmax: softArgmaxLayer,
};
