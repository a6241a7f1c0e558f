/**
 * A deliberately naive float64 reference of the network maths, written
 * straight from the conventions in `nn/spec.ts` (NCHW, conv W [out, in, kh,
 * kw], dense W [in, out], flatten in C, H, W order) and the masked MSE of
 * `engine.ts`, with no engine in sight. Both engines (tfjs and native) are
 * checked against it: its forward pass and loss, its hand-derived gradients
 * (`referencePass`) and its central differences (`finiteDifferenceGradients`),
 * which are precise enough to judge float32 engines. Dropout multiplies by
 * the given masks and is the identity without them, as in Network.gradients.
 */
import type { NamedTensor } from '../../src/engine/engine.js';
import { Rng } from '../../src/random/rng.js';
import { paramKey, sizeOf, type ResolvedSpec } from '../../src/nn/spec.js';

export type Params = Map<string, Float64Array>;

/** Dropout masks per layer name, `n * units` values in sample, C, H, W order (as `dropoutMask` draws them). */
export type Masks = Map<string, Float32Array>;

export interface ReferenceResult {
  output: Float64Array;
  loss: number;
  grads: Params;
}

/** Random parameters (biases too, so relu patterns vary), uniform in [-scale, scale]. */
export function randomParams(spec: ResolvedSpec, seed: number, scale = 0.5): NamedTensor[] {
  const rng = new Rng(seed, 'test-params');
  return spec.layers.flatMap((layer) =>
    layer.params.map((p) => ({
      name: paramKey(layer.name, p.name),
      shape: [...p.shape],
      data: Float32Array.from({ length: sizeOf(p.shape) }, () => rng.uniform(-scale, scale)),
    })),
  );
}

export function randomArray(length: number, seed: number, low = -1, high = 1): Float32Array {
  const rng = new Rng(seed, 'test-array');
  return Float32Array.from({ length }, () => rng.uniform(low, high));
}

export function toParams(weights: NamedTensor[]): Params {
  return new Map(weights.map((w) => [w.name, Float64Array.from(w.data)]));
}

/**
 * The output of every layer for a batch of `n` samples, `n * sizeOf(outputShape)`
 * values each, indexed like `spec.layers` (index 0 is the input itself).
 */
function forwardActivations(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  masks?: Masks,
): Float64Array[] {
  const n = x.length / spec.inputSize;
  const acts: Float64Array[] = [Float64Array.from(x)];
  for (const layer of spec.layers.slice(1)) {
    const input = acts[acts.length - 1];
    let out: Float64Array;
    switch (layer.kind) {
      case 'conv2d': {
        const [c, h, wd] = layer.inputShape;
        const [f, oh, ow] = layer.outputShape;
        const [kh, kw] = layer.kernelSize;
        const W = params.get(paramKey(layer.name, 'W'))!;
        const b = params.get(paramKey(layer.name, 'b'))!;
        out = new Float64Array(n * f * oh * ow);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < f; o++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                let sum = b[o];
                for (let ci = 0; ci < c; ci++)
                  for (let u = 0; u < kh; u++)
                    for (let v = 0; v < kw; v++) {
                      sum +=
                        input[((s * c + ci) * h + i + u) * wd + j + v] * W[((o * c + ci) * kh + u) * kw + v];
                    }
                out[((s * f + o) * oh + i) * ow + j] = layer.activation === 'relu' ? Math.max(0, sum) : sum;
              }
        break;
      }
      case 'maxpool2d': {
        const [c, h, wd] = layer.inputShape;
        const [, oh, ow] = layer.outputShape;
        const p = layer.poolSize;
        out = new Float64Array(n * c * oh * ow);
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
        break;
      }
      case 'dense': {
        const inUnits = sizeOf(layer.inputShape);
        const units = layer.units;
        const W = params.get(paramKey(layer.name, 'W'))!;
        const b = params.get(paramKey(layer.name, 'b'))!;
        out = new Float64Array(n * units);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < units; o++) {
            let sum = b[o];
            for (let i = 0; i < inUnits; i++) sum += input[s * inUnits + i] * W[i * units + o];
            out[s * units + o] = layer.activation === 'relu' ? Math.max(0, sum) : sum;
          }
        break;
      }
      case 'dropout': {
        const mask = masks?.get(layer.name);
        out = mask ? input.map((v, k) => v * mask[k]) : input;
        break;
      }
      default:
        throw new Error(`unexpected layer ${layer.kind}`);
    }
    acts.push(out);
  }
  return acts;
}

/** Outputs of a batch of `n` samples, `n * outputSize` values. */
export function referenceForward(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  masks?: Masks,
): Float64Array {
  const acts = forwardActivations(spec, params, x, masks);
  return acts[acts.length - 1];
}

/** The masked MSE of engine.ts: mean of squared errors over targets that are not NaN, 0 when none is. */
function maskedMse(pred: Float64Array, y: Float32Array): number {
  let sum = 0;
  let present = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(y[i])) continue;
    sum += (pred[i] - y[i]) ** 2;
    present++;
  }
  return present === 0 ? 0 : sum / present;
}

export function referenceLoss(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  y: Float32Array,
  masks?: Masks,
): number {
  return maskedMse(referenceForward(spec, params, x, masks), y);
}

/** Forward pass, masked MSE and the hand-derived gradients of every parameter. */
export function referencePass(
  spec: ResolvedSpec,
  weights: NamedTensor[] | Params,
  x: Float32Array,
  y: Float32Array,
  masks?: Masks,
): ReferenceResult {
  const params = weights instanceof Map ? weights : toParams(weights);
  const n = x.length / spec.inputSize;
  const acts = forwardActivations(spec, params, x, masks);
  const output = acts[acts.length - 1];
  const loss = maskedMse(output, y);

  let present = 0;
  for (let i = 0; i < output.length; i++) if (!Number.isNaN(y[i])) present++;
  let grad = new Float64Array(output.length);
  for (let i = 0; i < output.length; i++) {
    grad[i] = Number.isNaN(y[i]) || present === 0 ? 0 : (2 * (output[i] - y[i])) / present;
  }

  const grads: Params = new Map();
  for (let l = spec.layers.length - 1; l >= 1; l--) {
    const layer = spec.layers[l];
    const input = acts[l - 1];
    const outAct = acts[l];
    const gradIn = new Float64Array(input.length);
    switch (layer.kind) {
      case 'conv2d': {
        const [c, h, wd] = layer.inputShape;
        const [f, oh, ow] = layer.outputShape;
        const [kh, kw] = layer.kernelSize;
        const W = params.get(paramKey(layer.name, 'W'))!;
        const gW = new Float64Array(W.length);
        const gb = new Float64Array(f);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < f; o++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                const at = ((s * f + o) * oh + i) * ow + j;
                const g = layer.activation === 'relu' && outAct[at] <= 0 ? 0 : grad[at];
                if (g === 0) continue;
                gb[o] += g;
                for (let ci = 0; ci < c; ci++)
                  for (let u = 0; u < kh; u++)
                    for (let v = 0; v < kw; v++) {
                      const xi = ((s * c + ci) * h + i + u) * wd + j + v;
                      const wi = ((o * c + ci) * kh + u) * kw + v;
                      gW[wi] += g * input[xi];
                      gradIn[xi] += g * W[wi];
                    }
              }
        grads.set(paramKey(layer.name, 'W'), gW);
        grads.set(paramKey(layer.name, 'b'), gb);
        break;
      }
      case 'maxpool2d': {
        const [c, h, wd] = layer.inputShape;
        const [, oh, ow] = layer.outputShape;
        const p = layer.poolSize;
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
        break;
      }
      case 'dense': {
        const inUnits = sizeOf(layer.inputShape);
        const units = layer.units;
        const W = params.get(paramKey(layer.name, 'W'))!;
        const gW = new Float64Array(W.length);
        const gb = new Float64Array(units);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < units; o++) {
            const at = s * units + o;
            const g = layer.activation === 'relu' && outAct[at] <= 0 ? 0 : grad[at];
            if (g === 0) continue;
            gb[o] += g;
            for (let i = 0; i < inUnits; i++) {
              gW[i * units + o] += g * input[s * inUnits + i];
              gradIn[s * inUnits + i] += g * W[i * units + o];
            }
          }
        grads.set(paramKey(layer.name, 'W'), gW);
        grads.set(paramKey(layer.name, 'b'), gb);
        break;
      }
      case 'dropout': {
        const mask = masks?.get(layer.name);
        for (let k = 0; k < gradIn.length; k++) gradIn[k] = mask ? grad[k] * mask[k] : grad[k];
        break;
      }
    }
    grad = gradIn;
  }
  return { output, loss, grads };
}

/** Central differences of the float64 loss for every parameter element. */
export function finiteDifferenceGradients(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  y: Float32Array,
  eps = 1e-6,
  masks?: Masks,
): Params {
  const grads: Params = new Map();
  for (const [name, values] of params) {
    const g = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const keep = values[i];
      values[i] = keep + eps;
      const up = referenceLoss(spec, params, x, y, masks);
      values[i] = keep - eps;
      const down = referenceLoss(spec, params, x, y, masks);
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
  let worstRatio = 1;
  for (let i = 0; i < expected.length; i++) {
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(expected[i]);
    const ratio = Math.abs(actual[i] - expected[i]) / allowed;
    if (!(ratio <= worstRatio)) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst < 0) return undefined;
  return `element ${worst}: ${actual[worst]} vs ${expected[worst]} (${worstRatio.toPrecision(3)} x the tolerance)`;
}
