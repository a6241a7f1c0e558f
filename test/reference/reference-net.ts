/**
 * A deliberately naive float64 reference of the network maths, written
 * straight from the conventions in `nn/spec.ts` (NCHW, conv W [out, in, kh,
 * kw], dense W [in, out], flatten in C, H, W order) and the masked MSE of
 * `engine.ts` (or any loss of `nn/loss.ts`, see `reference-losses.ts`), with
 * no engine in sight. Both engines (tfjs and native) are
 * checked against it: its forward pass and loss, its hand-derived gradients
 * (`referencePass`) and its central differences (`finiteDifferenceGradients`),
 * which are precise enough to judge float32 engines. Dropout multiplies by
 * the given masks and is the identity without them, as in Network.gradients.
 */
import { activate, type ResolvedActivation } from '../../src/nn/layers/activation.js';
import type { LossSpec } from '../../src/nn/loss.js';
import {
  paramKey,
  sizeOf,
  type LayerKind,
  type ResolvedLayer,
  type ResolvedLayerOf,
  type ResolvedSpec,
  weightInfos,
} from '../../src/nn/spec.js';
import type { NamedTensor } from '../../src/nn/tensor.js';
import { Rng } from '../../src/random/rng.js';
import { referenceLossGradient, referenceLossValue } from './reference-losses.js';

export type Params = Map<string, Float64Array>;

/** Dropout masks per layer name, `n * units` values in sample, C, H, W order (as `dropoutMask` draws them). */
export type Masks = Map<string, Float32Array>;

export interface ReferenceResult {
  output: Float64Array;
  loss: number;
  grads: Params;
}

/**
 * Random weights (biases too, so relu patterns vary), uniform in [-scale,
 * scale]; batch norm's gamma and running variance in [0.5, 1.5], so both
 * stay away from 0. Layer state included, in `weightInfos` order.
 */
export function randomParams(spec: ResolvedSpec, seed: number, scale = 0.5): NamedTensor[] {
  const rng = new Rng(seed, 'test-params');
  return weightInfos(spec).map((info) => ({
    name: info.key,
    shape: [...info.shape],
    data: Float32Array.from({ length: sizeOf(info.shape) }, () =>
      info.init.kind === 'ones' ? rng.uniform(0.5, 1.5) : rng.uniform(-scale, scale),
    ),
  }));
}

export function randomArray(length: number, seed: number, low = -1, high = 1): Float32Array {
  const rng = new Rng(seed, 'test-array');
  return Float32Array.from({ length }, () => rng.uniform(low, high));
}

export function toParams(weights: NamedTensor[]): Params {
  return new Map(weights.map((w) => [w.name, Float64Array.from(w.data)]));
}

/** What a layer's reference code gets besides its input. */
interface RefContext {
  n: number;
  params: Params;
  masks?: Masks;
  /** Training mode (batch statistics); inference mode uses the running statistics. */
  training: boolean;
}

/**
 * One layer kind's float64 maths: `forward` maps the layer's input (n samples,
 * NCHW) to its output; `backward` gets the forward's input and output and the
 * gradient of the output, adds the layer's parameter gradients to `grads` and
 * returns the gradient of its input. Straight loops, no cleverness.
 */
interface RefLayer<K extends LayerKind> {
  forward(layer: ResolvedLayerOf<K>, input: Float64Array, ctx: RefContext): Float64Array;
  backward(
    layer: ResolvedLayerOf<K>,
    input: Float64Array,
    output: Float64Array,
    grad: Float64Array,
    ctx: RefContext,
    grads: Params,
  ): Float64Array;
}

const param = (ctx: RefContext, layer: string, name: string): Float64Array =>
  ctx.params.get(paramKey(layer, name))!;

/** The activation's derivative from its output (the sign of the output is that of the input). */
function activationSlope(a: ResolvedActivation, out: number): number {
  return a.activation === 'linear' || out > 0 ? 1 : a.leakiness;
}

const REFERENCE: { [K in LayerKind]: RefLayer<K> } = {
  input: {
    forward: (_layer, input) => input,
    backward: (_layer, _input, _output, grad) => grad,
  },
  conv2d: {
    forward(layer, input, ctx) {
      const { n } = ctx;
      const [c, h, wd] = layer.inputShape;
      const [f, oh, ow] = layer.outputShape;
      const [kh, kw] = layer.kernelSize;
      const [sh, sw] = layer.stride;
      const [pt, , pl] = layer.padding;
      const W = param(ctx, layer.name, 'W');
      const b = param(ctx, layer.name, 'b');
      const out = new Float64Array(n * f * oh * ow);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < f; o++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              let sum = b[o];
              for (let ci = 0; ci < c; ci++)
                for (let u = 0; u < kh; u++)
                  for (let v = 0; v < kw; v++) {
                    const r = i * sh + u - pt;
                    const q = j * sw + v - pl;
                    if (r < 0 || r >= h || q < 0 || q >= wd) continue; // zero padding
                    sum += input[((s * c + ci) * h + r) * wd + q] * W[((o * c + ci) * kh + u) * kw + v];
                  }
              out[((s * f + o) * oh + i) * ow + j] = activate(layer, sum);
            }
      return out;
    },
    backward(layer, input, outAct, grad, ctx, grads) {
      const { n } = ctx;
      const [c, h, wd] = layer.inputShape;
      const [f, oh, ow] = layer.outputShape;
      const [kh, kw] = layer.kernelSize;
      const [sh, sw] = layer.stride;
      const [pt, , pl] = layer.padding;
      const W = param(ctx, layer.name, 'W');
      const gW = new Float64Array(W.length);
      const gb = new Float64Array(f);
      const gradIn = new Float64Array(input.length);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < f; o++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              const at = ((s * f + o) * oh + i) * ow + j;
              const g = grad[at] * activationSlope(layer, outAct[at]);
              if (g === 0) continue;
              gb[o] += g;
              for (let ci = 0; ci < c; ci++)
                for (let u = 0; u < kh; u++)
                  for (let v = 0; v < kw; v++) {
                    const r = i * sh + u - pt;
                    const q = j * sw + v - pl;
                    if (r < 0 || r >= h || q < 0 || q >= wd) continue;
                    const xi = ((s * c + ci) * h + r) * wd + q;
                    const wi = ((o * c + ci) * kh + u) * kw + v;
                    gW[wi] += g * input[xi];
                    gradIn[xi] += g * W[wi];
                  }
            }
      grads.set(paramKey(layer.name, 'W'), gW);
      grads.set(paramKey(layer.name, 'b'), gb);
      return gradIn;
    },
  },
  maxpool2d: {
    forward(layer, input, { n }) {
      const [c, h, wd] = layer.inputShape;
      const [, oh, ow] = layer.outputShape;
      const p = layer.poolSize;
      const out = new Float64Array(n * c * oh * ow);
      for (let s = 0; s < n; s++)
        for (let ci = 0; ci < c; ci++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              let best = -Infinity;
              for (let u = 0; u < p; u++)
                for (let v = 0; v < p; v++) {
                  best = Math.max(best, input[((s * c + ci) * h + i * p + u) * wd + j * p + v]);
                }
              out[((s * c + ci) * oh + i) * ow + j] = best;
            }
      return out;
    },
    backward(layer, input, _output, grad, { n }) {
      const [c, h, wd] = layer.inputShape;
      const [, oh, ow] = layer.outputShape;
      const p = layer.poolSize;
      const gradIn = new Float64Array(input.length);
      for (let s = 0; s < n; s++)
        for (let ci = 0; ci < c; ci++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              let bestAt = -1;
              for (let u = 0; u < p; u++)
                for (let v = 0; v < p; v++) {
                  const at = ((s * c + ci) * h + i * p + u) * wd + j * p + v;
                  if (bestAt < 0 || input[at] > input[bestAt]) bestAt = at;
                }
              gradIn[bestAt] += grad[((s * c + ci) * oh + i) * ow + j];
            }
      return gradIn;
    },
  },
  avgpool2d: {
    forward(layer, input, { n }) {
      const [c, h, wd] = layer.inputShape;
      const [, oh, ow] = layer.outputShape;
      const p = layer.poolSize;
      const out = new Float64Array(n * c * oh * ow);
      for (let s = 0; s < n; s++)
        for (let ci = 0; ci < c; ci++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              let sum = 0;
              for (let u = 0; u < p; u++)
                for (let v = 0; v < p; v++) sum += input[((s * c + ci) * h + i * p + u) * wd + j * p + v];
              out[((s * c + ci) * oh + i) * ow + j] = sum / (p * p);
            }
      return out;
    },
    backward(layer, input, _output, grad, { n }) {
      const [c, h, wd] = layer.inputShape;
      const [, oh, ow] = layer.outputShape;
      const p = layer.poolSize;
      const gradIn = new Float64Array(input.length);
      for (let s = 0; s < n; s++)
        for (let ci = 0; ci < c; ci++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              const g = grad[((s * c + ci) * oh + i) * ow + j] / (p * p);
              for (let u = 0; u < p; u++)
                for (let v = 0; v < p; v++) gradIn[((s * c + ci) * h + i * p + u) * wd + j * p + v] += g;
            }
      return gradIn;
    },
  },
  globalavgpool: {
    forward(layer, input, { n }) {
      const [c, h, wd] = layer.inputShape;
      const plane = h * wd;
      const out = new Float64Array(n * c);
      for (let k = 0; k < n * c; k++) {
        let sum = 0;
        for (let i = 0; i < plane; i++) sum += input[k * plane + i];
        out[k] = sum / plane;
      }
      return out;
    },
    backward(layer, input, _output, grad, { n }) {
      const [c, h, wd] = layer.inputShape;
      const plane = h * wd;
      const gradIn = new Float64Array(input.length);
      for (let k = 0; k < n * c; k++) for (let i = 0; i < plane; i++) gradIn[k * plane + i] = grad[k] / plane;
      return gradIn;
    },
  },
  batchnorm: {
    forward(layer, input, ctx) {
      const { mean, variance } = ctx.training
        ? batchMoments(layer, input, ctx.n)
        : runningMoments(ctx, layer.name);
      const gamma = param(ctx, layer.name, 'gamma');
      const beta = param(ctx, layer.name, 'beta');
      const out = new Float64Array(input.length);
      forEachChannel(layer, ctx.n, (ch, at) => {
        const xhat = (input[at] - mean[ch]) / Math.sqrt(variance[ch] + layer.epsilon);
        out[at] = activate(layer, gamma[ch] * xhat + beta[ch]);
      });
      return out;
    },
    backward(layer, input, outAct, grad, ctx, grads) {
      const { n } = ctx;
      const { mean, variance, count } = batchMoments(layer, input, n);
      const gamma = param(ctx, layer.name, 'gamma');
      const channels = gamma.length;
      const g = grad.map((v, at) => v * activationSlope(layer, outAct[at]));
      const istd = variance.map((v) => 1 / Math.sqrt(v + layer.epsilon));
      const gBeta = new Float64Array(channels);
      const gGamma = new Float64Array(channels);
      forEachChannel(layer, n, (ch, at) => {
        gBeta[ch] += g[at];
        gGamma[ch] += g[at] * (input[at] - mean[ch]) * istd[ch];
      });
      const gradIn = new Float64Array(input.length);
      forEachChannel(layer, n, (ch, at) => {
        const xhat = (input[at] - mean[ch]) * istd[ch];
        gradIn[at] = ((gamma[ch] * istd[ch]) / count) * (count * g[at] - gBeta[ch] - xhat * gGamma[ch]);
      });
      grads.set(paramKey(layer.name, 'gamma'), gGamma);
      grads.set(paramKey(layer.name, 'beta'), gBeta);
      return gradIn;
    },
  },
  dense: {
    forward(layer, input, ctx) {
      const { n } = ctx;
      const inUnits = sizeOf(layer.inputShape);
      const units = layer.units;
      const W = param(ctx, layer.name, 'W');
      const b = param(ctx, layer.name, 'b');
      const out = new Float64Array(n * units);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < units; o++) {
          let sum = b[o];
          for (let i = 0; i < inUnits; i++) sum += input[s * inUnits + i] * W[i * units + o];
          out[s * units + o] = activate(layer, sum);
        }
      return out;
    },
    backward(layer, input, outAct, grad, ctx, grads) {
      const { n } = ctx;
      const inUnits = sizeOf(layer.inputShape);
      const units = layer.units;
      const W = param(ctx, layer.name, 'W');
      const gW = new Float64Array(W.length);
      const gb = new Float64Array(units);
      const gradIn = new Float64Array(input.length);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < units; o++) {
          const at = s * units + o;
          const g = grad[at] * activationSlope(layer, outAct[at]);
          if (g === 0) continue;
          gb[o] += g;
          for (let i = 0; i < inUnits; i++) {
            gW[i * units + o] += g * input[s * inUnits + i];
            gradIn[s * inUnits + i] += g * W[i * units + o];
          }
        }
      grads.set(paramKey(layer.name, 'W'), gW);
      grads.set(paramKey(layer.name, 'b'), gb);
      return gradIn;
    },
  },
  dropout: {
    forward(layer, input, { masks }) {
      const mask = masks?.get(layer.name);
      return mask ? input.map((v, k) => v * mask[k]) : input;
    },
    backward(layer, _input, _output, grad, { masks }) {
      const mask = masks?.get(layer.name);
      return mask ? grad.map((v, k) => v * mask[k]) : Float64Array.from(grad);
    },
  },
  softargmax: {
    forward(layer, input, { n }) {
      const [c, h, wd] = layer.inputShape;
      const out = new Float64Array(n * 2 * c);
      for (let k = 0; k < n * c; k++) {
        const p = softmaxPlane(input, k, h * wd);
        for (let i = 0; i < h; i++)
          for (let j = 0; j < wd; j++) {
            out[2 * k] += p[i * wd + j] * cellCentre(j, wd, layer.frame[1]);
            out[2 * k + 1] += p[i * wd + j] * cellCentre(i, h, layer.frame[0]);
          }
      }
      return out;
    },
    // Through the softmax's full Jacobian, dp_a/dz_b = p_a (delta_ab - p_b): slow and plain.
    backward(layer, input, _output, grad, { n }) {
      const [c, h, wd] = layer.inputShape;
      const plane = h * wd;
      const gradIn = new Float64Array(input.length);
      for (let k = 0; k < n * c; k++) {
        const p = softmaxPlane(input, k, plane);
        const dp = new Float64Array(plane);
        for (let a = 0; a < plane; a++) {
          const x = cellCentre(a % wd, wd, layer.frame[1]);
          const y = cellCentre(Math.floor(a / wd), h, layer.frame[0]);
          dp[a] = grad[2 * k] * x + grad[2 * k + 1] * y;
        }
        for (let b = 0; b < plane; b++) {
          let sum = 0;
          for (let a = 0; a < plane; a++) sum += dp[a] * p[a] * ((a === b ? 1 : 0) - p[b]);
          gradIn[k * plane + b] = sum;
        }
      }
      return gradIn;
    },
  },
};

/** Softmax of the `plane` values of channel `k` (sample-major NCHW). */
function softmaxPlane(input: Float64Array, k: number, plane: number): Float64Array {
  const z = input.subarray(k * plane, (k + 1) * plane);
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** Centre of cell `j` of `cells` over a side of `frame` pixels (pixel centres at integers), in target units. */
function cellCentre(j: number, cells: number, frame: number): number {
  const pixel = ((j + 0.5) * frame) / cells - 0.5;
  return (pixel - frame / 2) / (frame / 2);
}

type BatchNorm = ResolvedLayerOf<'batchnorm'>;

/** Calls `visit(channel, index)` for every value of a batch norm's input (NCHW, or [n, F] with F channels). */
function forEachChannel(layer: BatchNorm, n: number, visit: (channel: number, at: number) => void): void {
  const channels = layer.inputShape[0];
  const plane = sizeOf(layer.inputShape.slice(1));
  let at = 0;
  for (let s = 0; s < n; s++)
    for (let ch = 0; ch < channels; ch++) for (let i = 0; i < plane; i++) visit(ch, at++);
}

/** Per-channel mean and biased variance of a batch, and the number of values each is over. */
function batchMoments(
  layer: BatchNorm,
  input: Float64Array,
  n: number,
): { mean: Float64Array; variance: Float64Array; count: number } {
  const channels = layer.inputShape[0];
  const count = n * sizeOf(layer.inputShape.slice(1));
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  forEachChannel(layer, n, (ch, at) => (mean[ch] += input[at] / count));
  forEachChannel(layer, n, (ch, at) => (variance[ch] += (input[at] - mean[ch]) ** 2 / count));
  return { mean, variance, count };
}

function runningMoments(ctx: RefContext, layer: string): { mean: Float64Array; variance: Float64Array } {
  return { mean: param(ctx, layer, 'mean'), variance: param(ctx, layer, 'var') };
}

/**
 * The layer state after one training step on `x` (dropout by `masks`): every
 * batch norm's running mean and variance moved by alpha towards the batch's.
 */
export function referenceStateUpdate(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  masks?: Masks,
): Params {
  const n = x.length / spec.inputSize;
  const acts = forwardActivations(spec, params, x, masks, true);
  const state: Params = new Map();
  spec.layers.forEach((layer, l) => {
    if (layer.kind !== 'batchnorm') return;
    const { mean, variance } = batchMoments(layer, acts[l - 1], n);
    const a = layer.alpha;
    const oldMean = params.get(paramKey(layer.name, 'mean'))!;
    const oldVar = params.get(paramKey(layer.name, 'var'))!;
    state.set(
      paramKey(layer.name, 'mean'),
      oldMean.map((v, ch) => (1 - a) * v + a * mean[ch]),
    );
    state.set(
      paramKey(layer.name, 'var'),
      oldVar.map((v, ch) => (1 - a) * v + a * variance[ch]),
    );
  });
  return state;
}

function refLayer(layer: ResolvedLayer): RefLayer<LayerKind> {
  return REFERENCE[layer.kind] as RefLayer<LayerKind>;
}

/**
 * The output of every layer for a batch of `n` samples, `n * sizeOf(outputShape)`
 * values each, indexed like `spec.layers` (index 0 is the input itself).
 */
export function forwardActivations(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  masks: Masks | undefined,
  training: boolean,
): Float64Array[] {
  const ctx: RefContext = { n: x.length / spec.inputSize, params, masks, training };
  const acts: Float64Array[] = [Float64Array.from(x)];
  for (const layer of spec.layers.slice(1))
    acts.push(refLayer(layer).forward(layer, acts[acts.length - 1], ctx));
  return acts;
}

/**
 * Outputs of a batch of `n` samples, `n * outputSize` values; in training
 * mode (batch statistics) unless `training` is false (running statistics, as
 * `predict`). Dropout only by the given masks.
 */
export function referenceForward(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  masks?: Masks,
  training = true,
): Float64Array {
  const acts = forwardActivations(spec, params, x, masks, training);
  return acts[acts.length - 1];
}

export function referenceLoss(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  y: Float32Array,
  masks?: Masks,
  training = true,
  loss?: LossSpec,
): number {
  return referenceLossValue(loss, referenceForward(spec, params, x, masks, training), y);
}

/**
 * Forward pass in training mode (batch statistics; dropout by `masks`), the
 * masked loss (default MSE) and the hand-derived gradients of every
 * trainable parameter: what `Network.gradients` computes.
 */
export function referencePass(
  spec: ResolvedSpec,
  weights: NamedTensor[] | Params,
  x: Float32Array,
  y: Float32Array,
  masks?: Masks,
  loss?: LossSpec,
): ReferenceResult {
  const params = weights instanceof Map ? weights : toParams(weights);
  const n = x.length / spec.inputSize;
  const acts = forwardActivations(spec, params, x, masks, true);
  const output = acts[acts.length - 1];
  const value = referenceLossValue(loss, output, y);
  let grad = referenceLossGradient(loss, output, y);

  const grads: Params = new Map();
  const ctx: RefContext = { n, params, masks, training: true };
  for (let l = spec.layers.length - 1; l >= 1; l--) {
    const layer = spec.layers[l];
    grad = refLayer(layer).backward(layer, acts[l - 1], acts[l], grad, ctx, grads);
  }
  return { output, loss: value, grads };
}

/** Central differences of the float64 training-mode loss for every trainable parameter element. */
export function finiteDifferenceGradients(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  y: Float32Array,
  eps = 1e-6,
  masks?: Masks,
  loss?: LossSpec,
): Params {
  const grads: Params = new Map();
  const trainable = new Set(
    weightInfos(spec)
      .filter((w) => w.trainable)
      .map((w) => w.key),
  );
  for (const [name, values] of params) {
    if (!trainable.has(name)) continue;
    const g = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const keep = values[i];
      values[i] = keep + eps;
      const up = referenceLoss(spec, params, x, y, masks, true, loss);
      values[i] = keep - eps;
      const down = referenceLoss(spec, params, x, y, masks, true, loss);
      values[i] = keep;
      g[i] = (up - down) / (2 * eps);
    }
    grads.set(name, g);
  }
  return grads;
}

/** max |a - b| / max |b|: a scale-free error for a whole tensor; Infinity when the lengths differ. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * numpy's allclose, element by element: every |actual - expected| must be at
 * most atol + rtol * |expected|. Unlike {@link relativeError}, a small element
 * is not excused by a large one elsewhere in the tensor.
 *
 * @returns a description of the worst element when some element is off, else undefined.
 */
export function notClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: { rtol: number; atol: number },
): string | undefined {
  if (actual.length !== expected.length) return `${actual.length} values, expected ${expected.length}`;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess =
      Math.abs(actual[i] - expected[i]) - (tolerance.atol + tolerance.rtol * Math.abs(expected[i]));
    // NaN counts as off.
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst < 0) return undefined;
  return (
    `element ${worst}: ${actual[worst]} vs ${expected[worst]} ` +
    `(|diff| ${Math.abs(actual[worst] - expected[worst])} > atol ${tolerance.atol} + rtol ${tolerance.rtol} * |expected|)`
  );
}
