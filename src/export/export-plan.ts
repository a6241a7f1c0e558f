/**
 * What every exporter shares: the check that each layer of a model is one
 * the exporters know (kind and every option), the weights by name, and the
 * metadata an exported model carries (keypoint schema, flip pairs, scaling),
 * so that a model used from plain tfjs or onnxruntime can be read without
 * facepoints. Pure (no node: imports).
 */
import { type KeypointSchema, getSchema } from '../data/schemas.js';
import { IMAGE_SIZE, PIXEL_MAX, TARGET_CENTER, TARGET_SCALE } from '../data/scaling.js';
import type { NamedTensor } from '../engine/engine.js';
import { FacepointsError } from '../errors.js';
import { paramKey, resolveSpec, type ResolvedLayer, type ResolvedSpec } from '../nn/spec.js';
import type { ModelContent } from '../train/model-file.js';

/** Formats `facepoints export` writes. */
export type ExportFormat = 'tfjs' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'onnx'];

/** A layer (or one of its options) that an exporter cannot express; names the layer. */
export class UnsupportedLayerError extends FacepointsError {
  readonly layer: string;
  constructor(layer: string, detail: string) {
    super(`layer "${layer}": ${detail}`);
    this.layer = layer;
  }
}

/**
 * The options each layer kind may carry in a spec for export: every option
 * the engines know (src/nn/layers/*.ts). A kind not listed, or an option not
 * listed (a newer engine feature), makes export refuse with the layer's name
 * rather than write a model that computes something else.
 */
const EXPORTABLE_OPTIONS: Record<string, readonly string[]> = {
  input: ['kind', 'shape', 'name'],
  conv2d: ['kind', 'filters', 'kernelSize', 'stride', 'padding', 'activation', 'leakiness', 'name'],
  maxpool2d: ['kind', 'poolSize', 'name'],
  avgpool2d: ['kind', 'poolSize', 'name'],
  globalavgpool: ['kind', 'name'],
  batchnorm: ['kind', 'epsilon', 'alpha', 'activation', 'leakiness', 'name'],
  // `init` says how training started W; the weights are what is exported.
  dense: ['kind', 'units', 'activation', 'leakiness', 'init', 'name'],
  dropout: ['kind', 'rate', 'name'],
  softargmax: ['kind', 'name'],
};
const EXPORTABLE_ACTIVATIONS = ['relu', 'linear', 'leakyRelu'];
/**
 * Options no engine knows that may be spelled out at the value that means
 * what export writes anyway (no dilation): those are not refused.
 */
const NEUTRAL_VALUES: Record<string, readonly string[]> = {
  dilation: ['1', '[1,1]'],
};

function isNeutral(key: string, value: unknown): boolean {
  return NEUTRAL_VALUES[key]?.includes(JSON.stringify(value)) ?? false;
}

/** Metadata written into every exported model (tfjs `userDefinedMetadata.facepoints`, ONNX `metadata_props`). */
export interface ExportMetadata {
  producer: 'facepoints';
  /** Keypoint schema name ('kaggle15', 'ibug68'), or null when the model's metadata names none. */
  schema: string | null;
  /** Output column names in order (`left_eye_center_x`, ...), or null when unknown. */
  columns: string[] | null;
  /** Keypoint names of the schema, in order. */
  keypoints: string[] | null;
  /** Pairs of output columns that a horizontal flip swaps. */
  flipPairs: [number, number][] | null;
  /** The network's input: per-sample shape and how pixels become input values. */
  input: {
    /** Per-sample shape in the exported model's own layout. */
    shape: number[];
    layout: 'NCHW' | 'NHWC' | 'flat';
    /** Frame side in pixels (the face crop is resized to this square). */
    imageSize: number;
    /** value = gray / 255 */
    pixelScale: number;
  };
  /** How outputs become frame pixels: pixel = value * scale + center. */
  output: { scale: number; center: number; formula: string };
}

/** A checked model ready to export. */
export interface ExportPlan {
  spec: ResolvedSpec;
  /** Weights by `layer.param` key, in the engine boundary's layouts (nn/spec.ts). */
  weights: Map<string, NamedTensor>;
  schema: KeypointSchema | null;
  columns: string[] | null;
}

/**
 * Checks that every layer can be exported and gathers the weights.
 *
 * @throws UnsupportedLayerError naming the first layer whose kind, option or activation no exporter knows.
 * @example
 * const plan = exportPlan(await readModelFile('net.fpm'));
 */
export function exportPlan(content: ModelContent): ExportPlan {
  const resolved = resolveSpec(content.spec);
  content.spec.layers.forEach((layer, index) => {
    const name = resolved.layers[index].name;
    const allowed = EXPORTABLE_OPTIONS[layer.kind];
    if (!allowed) throw new UnsupportedLayerError(name, `layer kind '${layer.kind}' cannot be exported yet`);
    for (const key of Object.keys(layer)) {
      const value = (layer as unknown as Record<string, unknown>)[key];
      if (!allowed.includes(key) && value !== undefined && !isNeutral(key, value)) {
        throw new UnsupportedLayerError(name, `option '${key}' of ${layer.kind} cannot be exported yet`);
      }
    }
    const activation = (layer as { activation?: string }).activation;
    if (activation !== undefined && !EXPORTABLE_ACTIVATIONS.includes(activation)) {
      throw new UnsupportedLayerError(name, `activation '${activation}' cannot be exported yet`);
    }
  });
  const weights = new Map(content.weights.map((t) => [t.name, t]));
  let schema: KeypointSchema | null = null;
  const metadata = content.metadata as { schema?: unknown; columns?: unknown };
  if (typeof metadata.schema === 'string') {
    try {
      schema = getSchema(metadata.schema);
    } catch {
      schema = null;
    }
  }
  const columns =
    Array.isArray(metadata.columns) && metadata.columns.length === resolved.outputSize
      ? metadata.columns.map(String)
      : null;
  return { spec: resolved, weights, schema, columns };
}

/** The weight tensor of a layer's parameter or state (`W`, `b`, `gamma`, `mean`, ...). */
export function paramOf(plan: ExportPlan, layer: ResolvedLayer, param: string): NamedTensor {
  const key = paramKey(layer.name, param);
  const tensor = plan.weights.get(key);
  if (!tensor) throw new UnsupportedLayerError(layer.name, `parameter ${key} is missing from the model`);
  return tensor;
}

/**
 * A layer as the exporters write it for inference: the resolved layer with
 * its tensors by short name (`W`, `b`; batch norm's `gamma`, `beta`, `mean`,
 * `var`). A batch norm right after a linear conv2d or dense layer is folded
 * into that layer (see {@link inferenceLayers}) and does not appear.
 */
export type InferenceLayer = ResolvedLayer & { tensors: Record<string, NamedTensor> };

/**
 * Folds an inference-mode batch norm into the linear conv2d or dense layer
 * before it: with s = gamma / sqrt(var + epsilon) per channel,
 * W' = W * s (per output channel), b' = (b - mean) * s + beta, and the layer
 * takes the batch norm's activation. Computed in float64.
 */
function foldBatchNorm(plan: ExportPlan, linear: InferenceLayer, bn: ResolvedLayer): InferenceLayer {
  if (bn.kind !== 'batchnorm' || (linear.kind !== 'conv2d' && linear.kind !== 'dense')) return linear;
  const [gamma, beta, mean, variance] = ['gamma', 'beta', 'mean', 'var'].map(
    (p) => paramOf(plan, bn, p).data,
  );
  const { W, b } = linear.tensors;
  const units = b.data.length;
  if (gamma.length !== units || beta.length !== units || mean.length !== units || variance.length !== units) {
    throw new UnsupportedLayerError(
      bn.name,
      `batch norm tensors do not match the ${units} channels of ${linear.name}`,
    );
  }
  const scale = Array.from(gamma, (g, o) => g / Math.sqrt(variance[o] + bn.epsilon));
  const w = new Float32Array(W.data.length);
  // conv W [out, in, kh, kw]: the output channel is the outermost axis; dense W [in, out]: the innermost.
  const perOut = W.data.length / units;
  for (let i = 0; i < w.length; i++) {
    w[i] = W.data[i] * scale[linear.kind === 'conv2d' ? Math.floor(i / perOut) : i % units];
  }
  const bias = Float32Array.from(b.data, (v, o) => (v - mean[o]) * scale[o] + beta[o]);
  return {
    ...linear,
    activation: bn.activation,
    leakiness: bn.leakiness,
    tensors: { W: { ...W, data: w }, b: { ...b, data: bias } },
  } as InferenceLayer;
}

/**
 * The layers of a plan as exported for inference, with their tensors; a
 * batch norm that directly follows a conv2d or dense layer without
 * activation is folded into it (the conv8-bn-aug pattern), any other batch
 * norm stays a layer of its own.
 */
export function inferenceLayers(plan: ExportPlan): InferenceLayer[] {
  const out: InferenceLayer[] = [];
  for (const layer of plan.spec.layers) {
    const previous = out[out.length - 1];
    if (
      layer.kind === 'batchnorm' &&
      previous &&
      (previous.kind === 'conv2d' || previous.kind === 'dense') &&
      previous.activation === 'linear'
    ) {
      out[out.length - 1] = foldBatchNorm(plan, previous, layer);
      continue;
    }
    const tensors: Record<string, NamedTensor> = {};
    for (const p of [...layer.params, ...layer.state]) tensors[p.name] = paramOf(plan, layer, p.name);
    out.push({ ...layer, tensors } as InferenceLayer);
  }
  return out;
}

/**
 * The metadata of an exported model. Flip pairs are those of the model's
 * own columns (a specialist predicting some columns gets the pairs among them).
 */
export function exportMetadata(plan: ExportPlan, layout: 'NCHW' | 'NHWC'): ExportMetadata {
  const { spec, schema, columns } = plan;
  let flipPairs: [number, number][] | null = null;
  if (schema && columns) {
    flipPairs = [];
    for (const [a, b] of schema.columnFlipPairs) {
      const i = columns.indexOf(schema.columns[a]);
      const j = columns.indexOf(schema.columns[b]);
      if (i >= 0 && j >= 0) flipPairs.push([i, j]);
    }
  }
  const image = spec.inputShape.length === 3;
  const [c, h, w] = spec.inputShape;
  return {
    producer: 'facepoints',
    schema: schema?.name ?? null,
    columns,
    keypoints: schema?.keypoints ?? null,
    flipPairs,
    input: {
      shape: !image ? [...spec.inputShape] : layout === 'NCHW' ? [c, h, w] : [h, w, c],
      layout: image ? layout : 'flat',
      imageSize: IMAGE_SIZE,
      pixelScale: 1 / PIXEL_MAX,
    },
    output: {
      scale: TARGET_SCALE,
      center: TARGET_CENTER,
      formula: `pixel = v * ${TARGET_SCALE} + ${TARGET_CENTER}`,
    },
  };
}
